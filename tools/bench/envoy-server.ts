// The same registry served the other way: `registry.start()` (envoy mode),
// with no Hono and no serverless `/start` stream in between. The benchmark
// runs it next to the project's `registry.handler()` server, on its own pool
// against the same engine, to show what the serverless layer costs.
//
// It listens on PORT only to answer `/health` once the envoy is connected, so
// the benchmark's process helpers can wait for it like for the app server.

import { createServer } from "node:http";
import { registry } from "../../src/registry.ts";

const port = Number(process.env.PORT);
const host = process.env.HOST ?? "127.0.0.1";

await registry.startAndWait();

const health = createServer((_req, res) => {
	res.writeHead(200, { "content-type": "application/json" });
	res.end('{"status":"ok"}');
});
health.listen(port, host);

async function shutdown(): Promise<void> {
	health.close();
	await registry.shutdown();
	process.exit(0);
}

process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
