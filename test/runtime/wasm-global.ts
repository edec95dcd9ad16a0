// Global setup of the wasm parity run (the `wasm` project of vitest.config.ts): the main
// suite's stack (one real engine, one app server), with the app server on
// rivetkit's wasm runtime (`FLEET_RUNTIME=wasm`, src/runtime.ts).

import type { TestProject } from "vitest/node";
import { type Stack, startStack } from "../../tools/local/stack.ts";
import { keepLogs } from "../setup/logs.ts";

let stack: Stack | undefined;

export async function setup(project: TestProject): Promise<void> {
	stack = await startStack({ serverEnv: { FLEET_RUNTIME: "wasm" } });
	project.provide("engineUrl", stack.engine.url);
	project.provide("appUrl", stack.server.url);
	project.provide("pool", stack.pool);
	project.provide("dataDir", stack.dataDir);
}

export async function teardown(): Promise<void> {
	if (!stack) return;
	keepLogs(stack.dataDir, "wasm parity");
	await stack.stop();
}
