// Global setup for the fault suite: a shared engine + server for the hostile
// input and auth tests, and a folder where each test file records what it
// injected and what it found, summed into one line at the end.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { type Stack, startStack } from "../../tools/local/stack.ts";
import type { AbuseFigures, BrowserFaultCounts, FaultCounts } from "./counters.ts";
import { reportLogs } from "./logs.ts";

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

export async function teardown(): Promise<void> {
	if (stack) reportLogs(stack.dataDir, "shared stack", true);
	// Stops the server, then the engine, and fails if any process of it outlives it.
	await stack?.stop();
	if (!countersDir) return;
	const total: FaultCounts = { injected: 0, hostile: 0, lost: 0, duplicated: 0, unauthorized: 0, changedState: 0 };
	const browser: BrowserFaultCounts = { injected: 0, recoveriesMs: [], lost: 0, duplicated: 0 };
	let abuse: AbuseFigures | undefined;
	for (const file of readdirSync(countersDir)) {
		const counts = JSON.parse(readFileSync(path.join(countersDir, file), "utf8")) as FaultCounts;
		total.injected += counts.injected;
		total.hostile += counts.hostile;
		total.lost += counts.lost;
		total.duplicated += counts.duplicated;
		// Files written before these counts existed have none.
		total.unauthorized += counts.unauthorized ?? 0;
		total.changedState += counts.changedState ?? 0;
		abuse ??= counts.abuse;
		if (counts.browser) {
			browser.injected += counts.browser.injected;
			browser.recoveriesMs.push(...counts.browser.recoveriesMs);
			browser.lost += counts.browser.lost;
			browser.duplicated += counts.browser.duplicated;
		}
	}
	rmSync(countersDir, { recursive: true, force: true });
	console.log(
		`\nfaults: ${total.injected} injected, ${total.hostile} hostile inputs, ${total.lost} lost, ${total.duplicated} duplicated, ` +
			`${total.unauthorized} unauthorized calls refused, ${total.changedState} changed state` +
			(abuse ? `; ${abuseFigures(abuse)}` : "") +
			"\n",
	);
	if (browser.injected > 0) {
		console.log(
			`browser faults: ${browser.injected} injected, recovered in ${seconds(browser.recoveriesMs, 50)}/${seconds(browser.recoveriesMs, 100)} s, ` +
				`${browser.lost} lost, ${browser.duplicated} duplicated\n`,
		);
	}
}

/** Another user's small batch and counter under abuse, as multiples of idle (test/faults/abuse.test.ts). */
function abuseFigures(a: AbuseFigures): string {
	const x = (n: number) => `${n.toFixed(1)}x`;
	return `under abuse vs idle: small batch p50/p99 ${x(a.batchP50)}/${x(a.batchP99)}, counter p50/p99 ${x(a.counterP50)}/${x(a.counterP99)}`;
}

/** The p-th percentile of `valuesMs`, in seconds with one decimal ("-" when empty). */
function seconds(valuesMs: number[], p: number): string {
	if (valuesMs.length === 0) return "-";
	const sorted = [...valuesMs].sort((a, b) => a - b);
	const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
	return ((sorted[Math.max(0, index)] ?? 0) / 1_000).toFixed(1);
}
