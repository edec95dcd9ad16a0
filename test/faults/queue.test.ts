// Queue effects apply exactly once, in order, across crashes: 100 jobs go to
// one worker's queue; mid-way the server (one test) or the engine (the other)
// is killed with SIGKILL and restarted. With no client traffic after the
// crash, every job must end `done` with exactly one stored result, and the
// results must have been stored in the order sent.

import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { faultCounts } from "./counters.ts";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, readLedger, serverParams } from "./support.ts";

const JOBS = 100;
/** Kill once this many jobs have been stored. */
const KILL_AFTER = 30;

const counts = faultCounts("queue");
let fleet: CrashStack;

beforeAll(async () => {
	fleet = await startCrashStack("queue");
});

afterEach(({ task }) => fleet.noteResult(task));
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
	// Only the server may send jobs to a worker; the test holds a server token.
	const worker = client.worker.getOrCreate([prefix], { params: await serverParams() });
	const sent = Array.from({ length: JOBS }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
	for (const jobId of sent) {
		await worker.send("jobs", { jobId, kind: "wordstats", input: { text: `job ${jobId} counts these words` } });
	}
	await expect.poll(() => storedOrder(prefix).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(KILL_AFTER);
	await crash();
	counts.injected++;

	// No client traffic until every job is stored: the worker's watchdog
	// schedule brings it back (after an engine crash, by restarting itself;
	// see `restartAfterFailure` in src/workarounds/crash-recovery.ts).
	await expect.poll(() => storedOrder(prefix).length, { timeout: 120_000, interval: 250 }).toBe(JOBS);
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

test(`${JOBS} jobs, engine kill -9 mid-way: each applied once, in order`, async () => {
	await runHundredJobs("q-engine", async () => {
		await fleet.killEngine();
		await fleet.restartEngine();
	});
});
