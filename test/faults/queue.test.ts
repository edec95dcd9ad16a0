// Queue effects apply exactly once, in order, across crashes: 100 jobs go to
// one worker's queue; mid-way the server is killed with SIGKILL and restarted.
// Every job must end with exactly one stored result, and the results must have
// been stored in the order sent.

import { afterAll, beforeAll, expect, test } from "vitest";
import { faultCounts } from "./counters.ts";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, readLedger } from "./support.ts";

const JOBS = 100;
/** Kill once this many jobs have been stored. */
const KILL_AFTER = 30;

const counts = faultCounts("queue");
let fleet: CrashStack;

beforeAll(async () => {
	fleet = await startCrashStack();
});

afterAll(() => fleet.stop());

/** Jobs of this run in the order their results were stored (first store only). */
function storedOrder(prefix: string): string[] {
	const order: string[] = [];
	for (const line of readLedger(fleet.ledgerFile)) {
		if (line.event === "END" && line.step === "store" && line.jobId.startsWith(prefix) && !order.includes(line.jobId)) {
			order.push(line.jobId);
		}
	}
	return order;
}

async function runHundredJobs(prefix: string, crash: () => Promise<void>): Promise<void> {
	const client = clientFor(fleet.stack.engine.url);
	const worker = client.worker.getOrCreate([prefix]);
	const sent = Array.from({ length: JOBS }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
	for (const jobId of sent) {
		await worker.send("jobs", { jobId, kind: "wordstats", input: { text: `job ${jobId} counts these words` } });
	}
	await expect.poll(() => storedOrder(prefix).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(KILL_AFTER);
	await crash();
	counts.injected++;

	// Client traffic is allowed here (this test is about exactly-once effects,
	// not about waking up without traffic; the workflow test covers that): an
	// actor put to sleep by the crash resumes its queue when a request wakes it.
	await expect
		.poll(
			async () => {
				await worker.status().catch(() => null);
				return storedOrder(prefix).length;
			},
			{ timeout: 120_000, interval: 1_000 },
		)
		.toBe(JOBS);
	const status = await eventually(() => worker.status());
	const results = await Promise.all(sent.map((jobId) => eventually(() => worker.getJob(jobId))));
	const missing = results.filter((r) => r === null || r.status !== "done").length;
	// Each jobId has one row (its primary key); more completed rows than jobs would be a duplicate effect.
	const duplicated = Math.max(0, status.completed - JOBS);
	counts.lost += missing;
	counts.duplicated += duplicated;
	expect({ missing, duplicated, completed: status.completed }).toEqual({ missing: 0, duplicated: 0, completed: JOBS });
	expect(storedOrder(prefix)).toEqual(sent);
}

test(`${JOBS} jobs, server kill -9 mid-way: each applied once, in order`, async () => {
	await runHundredJobs("q-server", () => fleet.crashServer());
});

// Not in the suite: the same run with the *engine* killed mid-way. It applied
// every job exactly once in two of three runs, but in the third the worker
// stalled at 49 of 100 stored jobs for over two minutes after the engine
// restarted, even with client traffic waking it. Liveness after an engine
// crash is an open problem (README "Reliability", issue 7).
