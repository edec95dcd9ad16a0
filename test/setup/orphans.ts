// A test worker whose vitest is gone stops what it started and exits
// (measured with vitest 4.1.12: after SIGTERM to vitest, a worker ran on, re-parented).

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
