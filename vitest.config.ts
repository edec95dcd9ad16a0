import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		// Crash tests and the multi-node cluster have their own configs:
		// `npm run test:faults`, `npm run test:cluster`.
		exclude: ["test/faults/**", "test/cluster/**", "test/fixtures/**"],
		// One real engine and one app server for the whole run (test/setup/global.ts).
		globalSetup: ["test/setup/exit-when-orphaned.ts", "test/setup/global.ts"],
		// A worker whose vitest is gone stops what it started (see the file).
		setupFiles: ["test/setup/orphans.ts"],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// Two cores here; the engine and the server need the rest.
		maxWorkers: 2,
		// Asynchronous effects are polled, never slept on; a loaded machine (CI,
		// two cores) needs more than the 1 s default to see them.
		expect: { poll: { timeout: 15_000, interval: 100 } },
	},
});
