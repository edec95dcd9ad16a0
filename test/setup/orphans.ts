// Setup file of every vitest config: a test worker whose vitest is gone
// (killed by SIGTERM, or orphaned when npm above it was killed) stops what
// it started and exits, instead of running its test file to the end on its
// own. Measured with vitest 4.1.12: after SIGTERM to vitest, a forked worker
// stayed alive, re-parented, still running its test.

import { onParentLoss, stopTracked } from "../../tools/local/lifecycle.ts";

const INSTALLED = Symbol.for("actor-fleet.orphan-watch");
const global = globalThis as { [INSTALLED]?: boolean };

if (!global[INSTALLED]) {
	global[INSTALLED] = true;
	onParentLoss((parent) => {
		console.error(`vitest (pid ${parent}) is gone: this worker stops what it started and exits`);
		void stopTracked().finally(() => process.exit(1));
	});
}
