// Global setup for the fault suite: a shared engine + server for the hostile
// input and auth tests, and a folder where each test file records what it
// injected and what it found, summed into one line at the end.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { type Stack, startStack } from "../../src/local/stack.ts";
import type { FaultCounts } from "./counters.ts";

declare module "vitest" {
	export interface ProvidedContext {
		engineUrl: string;
		appUrl: string;
		pool: string;
		dataDir: string;
		countersDir: string;
	}
}

let stack: Stack | undefined;
let countersDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
	countersDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-faults-"));
	stack = await startStack();
	project.provide("engineUrl", stack.engine.url);
	project.provide("appUrl", stack.server.url);
	project.provide("pool", stack.pool);
	project.provide("dataDir", stack.dataDir);
	project.provide("countersDir", countersDir);
}

/** Error lines of the shared server's log worth showing at the end of a run. */
const MAX_LOGGED_ERRORS = 20;

/**
 * The shared stack's logs are deleted with its data dir, so a failure seen
 * only under load (once: `internal_error` on a chat post in the load test)
 * would leave no trace. Its error-level lines are printed before that.
 */
function printServerErrors(dataDir: string): void {
	const lines = readdirSync(dataDir)
		.filter((file) => file.startsWith("server-") && file.endsWith(".log"))
		.flatMap((file) => readFileSync(path.join(dataDir, file), "utf8").split("\n"))
		.filter((line) => line.includes("level=error"));
	if (lines.length === 0) return;
	console.log(`\nthe shared app server logged ${lines.length} error line(s); the first ${MAX_LOGGED_ERRORS}:`);
	for (const line of lines.slice(0, MAX_LOGGED_ERRORS)) console.log(`  ${line.slice(0, 600)}`);
}

export async function teardown(): Promise<void> {
	if (stack) printServerErrors(stack.dataDir);
	// Stops the server, then the engine, and fails if any process of it outlives it.
	await stack?.stop();
	if (!countersDir) return;
	const total: FaultCounts = { injected: 0, hostile: 0, lost: 0, duplicated: 0 };
	for (const file of readdirSync(countersDir)) {
		const counts = JSON.parse(readFileSync(path.join(countersDir, file), "utf8")) as FaultCounts;
		total.injected += counts.injected;
		total.hostile += counts.hostile;
		total.lost += counts.lost;
		total.duplicated += counts.duplicated;
	}
	rmSync(countersDir, { recursive: true, force: true });
	console.log(
		`\nfaults: ${total.injected} injected, ${total.hostile} hostile inputs, ${total.lost} lost, ${total.duplicated} duplicated\n`,
	);
}
