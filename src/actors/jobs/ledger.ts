// An append-only audit trail of worker step executions, outside the engine.
//
// Off unless WORKER_STEP_LEDGER names a file. Each line is
// `<ms> <pid> <START|END> <jobId> <step>`, written synchronously so it
// survives a kill -9 of the server. The workflow history records which steps
// finished; only a trail kept elsewhere shows how often a step actually *ran*,
// which is what the crash tests check (a recorded step never runs again; the
// step in flight at a crash, and an `ephemeral` step not yet recorded with
// it, run at most twice) and what an operator wants
// when a job looks stuck.

import { appendFileSync } from "node:fs";
import { jobsSettings } from "./settings.ts";

export type LedgerEvent = "START" | "END";

export function recordStep(event: LedgerEvent, jobId: string, step: string): void {
	const file = jobsSettings().workerStepLedger;
	if (file === undefined) return;
	appendFileSync(file, `${Date.now()} ${process.pid} ${event} ${jobId} ${step}\n`);
}

/** Runs `run` between a START and an END record. A throw leaves only the START. */
export async function ledgered<T>(jobId: string, step: string, run: () => T | Promise<T>): Promise<T> {
	recordStep("START", jobId, step);
	const value = await run();
	recordStep("END", jobId, step);
	return value;
}
