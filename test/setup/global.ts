// Vitest global setup: one real Rivet Engine and one app server for the run,
// on free ports with a temporary data dir, stopped by PID at the end.

import type { TestProject } from "vitest/node";
import { type Stack, startStack } from "../../tools/local/stack.ts";
import { reportLogs } from "./logs.ts";

declare module "vitest" {
	export interface ProvidedContext {
		engineUrl: string;
		appUrl: string;
		pool: string;
		dataDir: string;
	}
}

let stack: Stack | undefined;

export async function setup(project: TestProject): Promise<void> {
	stack = await startStack();
	project.provide("engineUrl", stack.engine.url);
	project.provide("appUrl", stack.server.url);
	project.provide("pool", stack.pool);
	project.provide("dataDir", stack.dataDir);
}

export async function teardown(): Promise<void> {
	if (!stack) return;
	// With `FAULT_LOGS_DIR` set, the run's server and engine logs are kept
	// there. Not printed: rivetkit 2.3.19 logs error lines in routine runs
	// (e.g. "failed to sync scheduled actor alarm" as actors go to sleep).
	reportLogs(stack.dataDir, "main suite", false);
	// Stops the server, then the engine, and fails if any process of it outlives it.
	await stack.stop();
}
