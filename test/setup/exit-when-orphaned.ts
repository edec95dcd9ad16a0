// Global setup of every vitest config: if the process that started vitest
// (npm, a shell, the check runner) is gone, vitest stops what its global
// setup started and ends itself with SIGTERM. Its workers then find their
// parent gone and stop too (test/setup/orphans.ts). Without this, `kill` of
// the npm above a test run leaves the whole run going on its own.

import { onParentLoss, stopTracked } from "../../tools/local/lifecycle.ts";

export function setup(): void {
	onParentLoss((parent) => {
		console.error(`the process that started vitest (pid ${parent}) is gone: stopping the run`);
		void stopTracked().finally(() => process.kill(process.pid, "SIGTERM"));
	});
}
