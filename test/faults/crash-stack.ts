// An isolated engine + server that crash tests can kill and restart: the
// server on the same port (the runner config keeps pointing at it), the engine
// on the same port and data dir. Always reflects what runs now.

import path from "node:path";
import type { RunnerTestCase } from "vitest";
import { startEngine } from "../../tools/local/engine.ts";
import { type Stack, startServerForPool, startStack } from "../../tools/local/stack.ts";
import { reportLogs } from "./logs.ts";

export interface CrashStack {
	readonly stack: Stack;
	/** A ledger file the worker appends its step executions to. */
	readonly ledgerFile: string;
	/** SIGKILL the server, keep it down for `downMs` (default: not at all), then start a new one on its port. */
	crashServer(downMs?: number): Promise<void>;
	/**
	 * SIGTERM the server (it drains its actors), keep it down for `ms`, then
	 * start a new one on its port. `whileDown` runs once the server has exited.
	 */
	stopServerFor(ms: number, whileDown?: () => void): Promise<void>;
	/** SIGKILL the engine. */
	killEngine(): Promise<void>;
	/** Start the engine again on its port and data dir. */
	restartEngine(): Promise<void>;
	/** Remembers whether a test failed (`afterEach(({ task }) => fleet.noteResult(task))`). */
	noteResult(task: Readonly<RunnerTestCase>): void;
	/** Stops everything; after a failed test, prints the servers' error lines first. */
	stop(): Promise<void>;
}

/** `label` names the stack in the logs printed when it stops (see `reportLogs`). */
export async function startCrashStack(label: string): Promise<CrashStack> {
	const stack = await startStack();
	const ledgerFile = path.join(stack.dataDir, "ledger.log");
	const port = Number(new URL(stack.server.url).port);
	const enginePort = Number(new URL(stack.engine.url).port);
	const startServer = () =>
		startServerForPool(stack.engine.url, {
			pool: stack.pool,
			dataDir: stack.dataDir,
			port,
			configure: false,
			env: { WORKER_STEP_LEDGER: ledgerFile },
		});
	// The stack's first server has no ledger; replace it with one that does.
	await stack.server.stop();
	stack.server = await startServer();
	let failed = false;
	return {
		stack,
		ledgerFile,
		async crashServer(downMs = 0) {
			await stack.server.kill();
			// The outage itself: how long the fault lasts, not a wait for an effect.
			if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
			stack.server = await startServer();
		},
		async stopServerFor(ms, whileDown) {
			await stack.server.stop();
			whileDown?.();
			// The outage itself: how long the fault lasts, not a wait for an effect.
			await new Promise((r) => setTimeout(r, ms));
			stack.server = await startServer();
		},
		killEngine: () => stack.engine.kill(),
		async restartEngine() {
			stack.engine = await startEngine({ port: enginePort, dataDir: path.join(stack.dataDir, "engine") });
		},
		noteResult(task) {
			failed ||= task.result?.state === "fail";
		},
		async stop() {
			reportLogs(stack.dataDir, label, failed);
			await stack.stop();
		},
	};
}
