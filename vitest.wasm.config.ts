import { defineConfig } from "vitest/config";

// The wasm parity run: a subset of the main suite (every actor family's
// behaviour over HTTP and WebSocket, SQLite, queues, workflows and schedules
// included) against an app server on rivetkit's wasm runtime
// (`FLEET_RUNTIME=wasm`, src/runtime.ts). Same engine, same tests, same
// files: only the server's runtime differs. `npx vitest run --config
// vitest.wasm.config.ts`.
export default defineConfig({
	test: {
		include: [
			"test/actors/counter/counter.test.ts",
			"test/actors/chat-room/chat-room.test.ts",
			"test/actors/jobs/worker.test.ts",
			"test/actors/jobs/coordinator.test.ts",
			// Checks that the server the files above talk to runs on wasm.
			"test/runtime/wasm-server.wasm-test.ts",
		],
		globalSetup: ["test/setup/exit-when-orphaned.ts", "test/runtime/wasm-global.ts"],
		setupFiles: ["test/setup/orphans.ts"],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		maxWorkers: 2,
		expect: { poll: { timeout: 15_000, interval: 100 } },
	},
});
