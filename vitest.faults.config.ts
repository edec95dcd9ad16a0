import { defineConfig } from "vitest/config";

// `npm run test:faults`: crashes (kill -9 of servers and engines), hostile
// input and auth checks. Each crash test owns its engine and servers; the
// global setup only counts what the tests injected and prints the summary.
export default defineConfig({
	test: {
		include: ["test/faults/**/*.test.ts"],
		globalSetup: ["test/setup/exit-when-orphaned.ts", "test/faults/setup.ts"],
		// A worker whose vitest is gone stops what it started (see the file).
		setupFiles: ["test/setup/orphans.ts"],
		testTimeout: 180_000,
		hookTimeout: 120_000,
		maxWorkers: 2,
		// Asynchronous effects are polled, never slept on; a loaded machine (CI,
		// two cores) needs more than the 1 s default to see them.
		expect: { poll: { timeout: 15_000, interval: 100 } },
	},
});
