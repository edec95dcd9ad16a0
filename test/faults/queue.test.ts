// Queue effects apply exactly once, in order, across crashes: 100 jobs go to
// one worker's queue; mid-way the server (one test) or the engine (the other)
// is killed with SIGKILL and restarted. With no client traffic after the
// crash, every job must end `done` with exactly one stored result, and the
// results must have been stored in the order sent. A third test kills the
// server inside one iteration of the worker's loop, after it took a batch of
// jobs from the queue and while the steps that follow are not yet recorded
// (`ephemeral`), and keeps it down until the worker's watchdog has fallen
// due. "Stored" is read from the worker's step ledger: a job counts once the
// store step that wrote its row has finished (docs/reliability.md, "Why a
// batched worker loses no queued job", for a kill that once hid that).

import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { JOBS_PER_ITERATION } from "../../src/actors/jobs/worker.ts";
import { WATCHDOG_INTERVAL_MS } from "../../src/workarounds/crash-recovery.ts";
import { faultCounts } from "./counters.ts";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, type LedgerLine, readLedger, serverParams } from "./support.ts";

const JOBS = 100;
/** Kill once this many jobs have been stored. */
const KILL_AFTER = 30;
/** Holds the worker while a batch queues up behind it: 20 chunk steps. */
const BLOCKER = { kind: "sha256", input: { text: "blocker", rounds: 1_000_000 } } as const;
/** One chunk each (50,000 rounds), long enough that the kill lands while the batch runs. */
const BATCH_JOB = { kind: "sha256", input: { text: "batch", rounds: 50_000 } } as const;
/** The kill comes when this job of the batch starts its chunk. */
const KILL_AT_JOB = 1;

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

test("a batch killed before its steps are recorded, server down until its watchdog fell due: each job once, in order", async () => {
	const prefix = "q-batch";
	const client = clientFor(fleet.stack.engine.url);
	const worker = client.worker.getOrCreate([prefix], { params: await serverParams() });
	const blockerId = `${prefix}-blocker`;
	const batch = Array.from({ length: JOBS_PER_ITERATION }, (_, i) => `${prefix}-${i}`);
	// Queued while the blocker runs, so the next iteration takes all of them.
	await worker.send("jobs", { ...BLOCKER, jobId: blockerId });
	for (const jobId of batch) await worker.send("jobs", { ...BATCH_JOB, jobId });
	const started = (line: LedgerLine, jobId: string) =>
		line.event === "START" && line.jobId === jobId && line.step === "chunk-0";
	await expect
		.poll(() => readLedger(fleet.ledgerFile).some((l) => started(l, batch[KILL_AT_JOB] ?? "")), {
			timeout: 60_000,
			interval: 5,
		})
		.toBe(true);
	const killedPid = fleet.stack.server.pid;
	// Down longer than the watchdog's interval: whatever schedule was pending
	// fell due with no server to wake, as on a loaded machine whose server
	// takes that long to start.
	await fleet.crashServer(WATCHDOG_INTERVAL_MS + 1_000);
	counts.injected++;

	const sent = [blockerId, ...batch];
	await expect.poll(() => storedOrder(prefix).length, { timeout: 120_000, interval: 250 }).toBe(sent.length);
	const results = await Promise.all(sent.map((jobId) => eventually(() => worker.getJob(jobId))));
	const missing = results.filter((r) => r === null || r.status !== "done").length;
	const status = await eventually(() => worker.status());
	const duplicated = Math.max(0, status.completed - sent.length);
	counts.lost += missing;
	counts.duplicated += duplicated;
	expect({ missing, duplicated, completed: status.completed }).toEqual({
		missing: 0,
		duplicated: 0,
		completed: sent.length,
	});
	expect(storedOrder(prefix)).toEqual(sent);

	// Where the kill landed, from the ledger: what the killed server had run
	// of the batch, and which of its steps the next one ran again (the
	// ephemeral steps not yet recorded, and the step in flight).
	const lines = readLedger(fleet.ledgerFile).filter((l) => batch.includes(l.jobId));
	const before = lines.filter((l) => l.pid === killedPid);
	const storedBefore = before.some((l) => l.event === "END" && l.step === "store");
	const ranBefore = new Set(before.filter((l) => l.event === "END").map((l) => `${l.jobId} ${l.step}`));
	const again = lines.filter(
		(l) => l.pid !== killedPid && l.event === "START" && ranBefore.has(`${l.jobId} ${l.step}`),
	);
	console.log(
		`queue: batch of ${batch.length} killed ${storedBefore ? "after" : "before"} its store; ${ranBefore.size} finished steps of the killed server, ${again.length} of them ran again after the restart`,
	);
});
