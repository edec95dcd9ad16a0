// The only entry point that starts anything: it listens, and it shuts down
// cleanly on SIGTERM/SIGINT (src/serve.ts).

import { app } from "./app.ts";
import { checkActorSettings, registry } from "./registry.ts";
import { prepareRuntime } from "./runtime.ts";
import { serveUntilStopped } from "./serve.ts";

await prepareRuntime();
serveUntilStopped({ app, registry, checkSettings: checkActorSettings });
