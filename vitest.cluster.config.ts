import { defineConfig } from "vitest/config";

// `npm run test:cluster`: the multi-node deployment (test/cluster/). It starts
// its own PostgreSQL, NATS, two engine nodes, nginx and two app servers, and
// kills some of them; run on its own so the other suites' timings never
// share two cores with seven more servers and their failovers.
export default defineConfig({
	test: {
		include: ["test/cluster/**/*.test.ts"],
		globalSetup: ["test/setup/exit-when-orphaned.ts"],
		// A worker whose vitest is gone stops what it started (see the file).
		setupFiles: ["test/setup/orphans.ts"],
		testTimeout: 120_000,
		hookTimeout: 120_000,
		maxWorkers: 1,
	},
});
