import { defineConfig } from "vitest/config";

// Every suite is a project of this config; `npm test` runs them one after
// another with `--project <name>`, each in a group of its own
// (`sequence.groupOrder`) with its own engines, so no two share the cores.
// lab:start (the README's lab removal block deletes these lines)
// An actor test runs on both runtimes: native in main, wasm in the lab's wasm
// parity run.
// lab:end

/** What every project shares: stop when the launcher is gone, poll rather than sleep. */
const common = {
	// Orphaned runs and workers stop what they started (see the files).
	globalSetup: ["test/setup/exit-when-orphaned.ts"],
	setupFiles: ["test/setup/orphans.ts"],
	// Effects are polled, never slept on; a loaded 2-core machine needs more than the 1 s default.
	expect: { poll: { timeout: 15_000, interval: 100 } },
};

export default defineConfig({
	test: {
		projects: [
			{
				test: {
					...common,
					// The product, the example actors, the web app, the image and the harness.
					name: "main",
					include: ["test/**/*.test.ts"],
					exclude: [
						"test/fixtures/**",
						// example-actors:start (the README's removal block deletes these lines)
						"test/removal.test.ts",
						// example-actors:end
						// lab:start (the README's lab removal block deletes these lines)
						"test/faults/**",
						"test/cluster/**",
						// lab:end
					],
					// One real engine and one app server for the whole run (test/setup/global.ts).
					globalSetup: [...common.globalSetup, "test/setup/global.ts"],
					testTimeout: 60_000,
					hookTimeout: 60_000,
					// Two cores here; the engine and the server need the rest.
					maxWorkers: 2,
					sequence: { groupOrder: 0 },
				},
			},
			// lab:start (the README's lab removal block deletes these lines)
			{
				test: {
					...common,
					// The reliability lab's wasm parity run: the actor tests again,
					// against an app server on rivetkit's wasm runtime
					// (`FLEET_RUNTIME=wasm`, src/runtime.ts): same engine, same tests,
					// only the server's runtime differs.
					name: "wasm",
					include: [
						// example-actors:start (the README's removal block deletes these lines)
						"test/actors/counter/counter.test.ts",
						"test/actors/chat-room/chat-room.test.ts",
						"test/actors/jobs/worker.test.ts",
						"test/actors/jobs/coordinator.test.ts",
						// example-actors:end
						// Checks that the server the files above talk to runs on wasm.
						"test/runtime/wasm-server.wasm-test.ts",
					],
					globalSetup: [...common.globalSetup, "test/runtime/wasm-global.ts"],
					testTimeout: 60_000,
					hookTimeout: 60_000,
					maxWorkers: 2,
					sequence: { groupOrder: 1 },
				},
			},
			// example-actors:start (the fault suite crashes the example actors)
			{
				test: {
					...common,
					// Crashes (kill -9 of servers and engines), hostile input and auth
					// checks. Each crash test owns its engine and servers; the global
					// setup shares one stack and prints the summary of what was injected.
					name: "faults",
					include: ["test/faults/**/*.test.ts"],
					globalSetup: [...common.globalSetup, "test/faults/setup.ts"],
					testTimeout: 180_000,
					hookTimeout: 120_000,
					maxWorkers: 2,
					sequence: { groupOrder: 2 },
				},
			},
			// example-actors:end
			{
				test: {
					...common,
					// The multi-node deployment (PostgreSQL, NATS, two engine nodes,
					// nginx, two app servers), broken on purpose; one file at a time so
					// the other suites' timings never share two cores with its failovers.
					name: "cluster",
					include: ["test/cluster/**/*.test.ts"],
					testTimeout: 120_000,
					hookTimeout: 120_000,
					maxWorkers: 1,
					sequence: { groupOrder: 3 },
				},
			},
			// lab:end
			// example-actors:start (the README's removal block deletes these lines)
			{
				test: {
					...common,
					// The README's removal blocks, run one after the other in a
					// temporary copy, each followed by the whole test command there;
					// last, alone, since the copy starts engines and servers of its own.
					name: "removal",
					include: ["test/removal.test.ts"],
					testTimeout: 1_800_000,
					hookTimeout: 120_000,
					maxWorkers: 1,
					sequence: { groupOrder: 4 },
				},
			},
			// example-actors:end
		],
	},
});
