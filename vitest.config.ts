import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// Two cores here; the engines and the servers need the rest.
		maxWorkers: 2,
		projects: [
			{
				extends: true,
				test: {
					name: "app",
					include: ["test/**/*.test.ts"],
					exclude: ["test/cluster/**"],
					// One real engine and one app server for the whole run (test/setup/global.ts).
					globalSetup: ["test/setup/global.ts"],
					sequence: { groupOrder: 0 },
				},
			},
			{
				extends: true,
				test: {
					// The multi-node cluster (test/cluster/): it starts its own PostgreSQL,
					// NATS, engine nodes, nginx and app servers, and kills some of them.
					name: "cluster",
					include: ["test/cluster/**/*.test.ts"],
					testTimeout: 120_000,
					hookTimeout: 120_000,
					// After the app project, not beside it: seven more servers and their
					// failovers on two cores slow the other tests into their timeouts.
					sequence: { groupOrder: 1 },
				},
			},
		],
	},
});
