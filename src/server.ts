// The only entry point that starts anything: it listens, and it shuts down
// cleanly on SIGTERM/SIGINT (src/serve.ts).

import { createApp } from "./app.ts";
import { checkActorSettings, registry } from "./registry.ts";
import { prepareRuntime } from "./runtime.ts";
import { serveUntilStopped } from "./serve.ts";
// example-actors:start
import { resumeAfterOutage } from "./workarounds/resume-after-outage.ts";

// example-actors:end

/** What the server does once it listens, when the engine can start actors here. */
async function onListening(): Promise<void> {
	// Start-up work of your actors goes here; a failure is logged, never fatal.
	// example-actors:start
	// Batches and workers left asleep by an outage resume (a rivetkit 2.3.19 workaround; see the file).
	const resumed = await resumeAfterOutage();
	if (resumed.asked > 0) {
		console.log(
			`actor-fleet: resumed ${resumed.asked} sleeping batch(es): ${resumed.running} still running, ${resumed.failed} not reached`,
		);
	}
	if (resumed.workers > 0) {
		console.log(`actor-fleet: woke ${resumed.workers} recently asleep worker(s), ${resumed.workersFailed} not reached`);
	}
	// example-actors:end
}

await prepareRuntime();
serveUntilStopped({ app: createApp(registry), registry, checkSettings: checkActorSettings, onListening });
