// If the process that started vitest is gone (a `kill` of npm), vitest stops
// what its global setup started and ends itself; its workers follow (orphans.ts).

import { onParentLoss, stopTracked } from "../../tools/local/lifecycle.ts";

export function setup(): void {
	onParentLoss((parent) => {
		console.error(`the process that started vitest (pid ${parent}) is gone: stopping the run`);
		void stopTracked().finally(() => process.kill(process.pid, "SIGTERM"));
	});
}
