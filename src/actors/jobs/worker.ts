// worker: runs computation jobs from its `jobs` queue, one at a time, as a
// durable workflow.
//
// Key: `[workerId]`. A coordinator names its workers `<batchId>.w<n>`.
// Only the server sends jobs: the `jobs` queue's `canPublish` requires a
// server token (coordinators send with `serverConnParams()`), so a client
// can neither enqueue work nor plant a result under a job id. Operators may
// look at a worker (`status`, `getJob`, its events); who may call what is
// `WORKER_ACCESS` in ./contract.ts.
// Owns: one SQLite row per finished job (results survive sleep and crashes),
// and the job in flight (state, small).
// Flow, per iteration of the workflow loop:
//   1. next-job: take every queued message up to JOBS_PER_ITERATION
//      (completable: each stays in the queue until step 5 completes it).
//   2. lookup-all: a jobId seen before returns its stored result.
//   3. for each new job: validate, then chunk-0 … chunk-n (one step per
//      chunk, each emits `progress`).
//   4. store-all: one row per new job in one write, emits `jobFinished`.
//   5. report-all: every result whose job has a `reply`, to its coordinator,
//      all at once; then complete each message with its result (what
//      `wait: true` senders get).
// Every step's result is recorded in the workflow history together with the
// actor state. Steps marked `ephemeral` (see `processQueuedJobs`) are
// recorded with the next step that is not, so after a crash the workflow
// replays what was recorded and re-runs the rest: the step in flight and the
// ephemeral steps since the last record. Only steps that compute from the
// message are ephemeral; a step whose result depends on what a later step
// writes (the lookup) is recorded at once. The received messages are
// recorded before any step runs and leave the queue only when completed,
// after store-all is recorded (docs/reliability.md, "Why a batched worker
// loses no queued job").
//
// Step and loop names are recorded in that history: renaming one breaks the
// replay of jobs in flight during a deploy. Add new steps under new names.
//
// rivetkit 2.3.19 needs help to resume a crashed actor with no traffic:
// `withCrashRecovery` and `restartAfterFailure` (src/workarounds/) add that
// from outside; delete both lines when rivetkit no longer needs them.

import { count, eq, inArray } from "drizzle-orm";
import { actor, event } from "rivetkit";
import { db } from "rivetkit/db/drizzle";
import { type TryStepFailure, type WorkflowContextOf, type WorkflowStepContextOf, workflow } from "rivetkit/workflow";
import { type ActorConnState, connStateFor, serverConnParams } from "../../auth/connection.ts";
import type { Registry } from "../../registry.ts";
import { restartAfterFailure, withCrashRecovery } from "../../workarounds/crash-recovery.ts";
import { guard, hookGuard } from "../access.ts";
import { admitOrForget } from "../strangers.ts";
import { parseInput } from "../validate.ts";
import { type ChunkTask, computeJob, planJob } from "./compute.ts";
import { runOnPool } from "./compute-pool.ts";
import { type JobProgress, WORKER_ACCESS, type WorkerStatus } from "./contract.ts";
import {
	type JobMessage,
	type JobOutput,
	type JobReply,
	type JobResult,
	jobIdSchema,
	jobMessageSchema,
	jobResultSchema,
	publicErrorText,
} from "./jobs.ts";
import { ledgered, recordStep } from "./ledger.ts";
import workerMigrations from "./worker-db/migrations.ts";
import { jobs } from "./worker-db/schema.ts";

/**
 * Idle time before the worker sleeps. Shorter than the watchdog interval, so
 * an idle worker falls asleep before its watchdog fires (see
 * `src/workarounds/crash-recovery.ts`).
 */
export const WORKER_SLEEP_TIMEOUT_MS = 10_000;
/** First retry delay; the workflow engine doubles it on every retry. */
const RETRY_BACKOFF_BASE_MS = 100;
/**
 * Retries of a step whose write to the actor's storage failed (the job's own
 * errors are values, see `jobCode`). Generous: an engine restart takes a few
 * seconds, and backoff doubles from 100 ms up to the cap, so this rides out
 * about 20 s. After that the workflow fails and the worker restarts.
 */
const STORAGE_RETRIES = { maxRetries: 10, retryBackoffBase: RETRY_BACKOFF_BASE_MS, retryBackoffMax: 3_000 } as const;
/**
 * Queued jobs one iteration of the workflow loop takes at once. Their rows
 * are written in one commit and their messages completed after the last of
 * them, so a job waits for the others of its iteration: a job that sits
 * behind seven long ones finishes later than it would alone.
 */
export const JOBS_PER_ITERATION = 8;
/** The steps that report results to the coordinator (`report-all`; `report`, `report.<i>` in older iterations); the only steps allowed to give up. */
const REPORT_STEP = "report";
const REPORT_ALL_STEP = "report-all";
/** Retries of the report to the coordinator; after that its sweep re-sends the job. */
const REPORT_MAX_RETRIES = 4;

interface WorkerState {
	/** The job in flight, if any. */
	current: JobProgress | null;
}

type Outcome = { status: "done"; result: JobOutput } | { status: "failed"; error: string };

/** What the job's own code did inside a step; recorded in the workflow history like any step result. */
type CodeOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** Thrown out of `computeJob` when a chunk's own code threw: the job ends `failed`. */
class ChunkFailed extends Error {
	override name = "ChunkFailed";
}

export const worker = withCrashRecovery(
	actor({
		options: { name: "Worker", icon: "gears", sleepTimeout: WORKER_SLEEP_TIMEOUT_MS },
		state: { current: null } as WorkerState,
		db: db({ schema: { jobs }, migrations: workerMigrations }),
		events: {
			// Checked when a connection subscribes (a token that expires later
			// keeps its subscription until the connection closes).
			progress: event<JobProgress>({ canSubscribe: hookGuard(WORKER_ACCESS.progress) }),
			jobFinished: event<JobResult>({ canSubscribe: hookGuard(WORKER_ACCESS.jobFinished) }),
		},
		queues: {
			// rivetkit validates the body with this schema when it is sent, and
			// rejects a bad one with `actor.validation_error` (it never enters the
			// queue). `complete` types the response `wait: true` senders receive.
			// `canPublish` runs first, on every send: only the server may enqueue.
			jobs: {
				message: jobMessageSchema,
				complete: jobResultSchema,
				canPublish: hookGuard(WORKER_ACCESS.jobs),
			},
		},

		// Runs for WebSocket connections, stateless HTTP calls and queue sends.
		// A refused first connection leaves no worker behind (src/actors/strangers.ts).
		createConnState: (c, params: unknown): Promise<ActorConnState> => {
			const holdsNothing = async () => {
				if (c.state.current !== null) return false;
				const [row] = await c.db.select({ n: count() }).from(jobs);
				return (row?.n ?? 0) === 0;
			};
			return admitOrForget(c, holdsNothing, () => connStateFor(params, c.request));
		},

		run: workflow(
			async (ctx) => {
				await ctx.loop("jobs", async (loop) => {
					await processIteration(loop);
				});
			},
			{
				onError: (c, event): void => {
					if ("workflow" in event) {
						restartAfterFailure(c, event.workflow.error.message);
						return;
					}
					c.log.warn({ msg: "worker workflow error", event: JSON.stringify(event) });
					// A step that gave up ends the workflow, except the report,
					// whose failure the loop handles (`tryStep`).
					if ("step" in event && !event.step.willRetry && !isReportStep(event.step.stepName)) {
						restartAfterFailure(c, event.step.error.message);
					}
				},
			},
		),

		actions: {
			status: async (c): Promise<WorkerStatus> => {
				guard(c, WORKER_ACCESS.status);
				const rows = await c.db.select({ status: jobs.status, n: count() }).from(jobs).groupBy(jobs.status);
				const countOf = (status: "done" | "failed") => rows.find((r) => r.status === status)?.n ?? 0;
				return {
					workerId: c.key[0] ?? "",
					current: c.state.current,
					completed: countOf("done"),
					failed: countOf("failed"),
				};
			},

			/** The stored outcome of `jobId`, or null while it is queued, running or unknown. */
			getJob: async (c, jobId: string): Promise<JobResult | null> => {
				guard(c, WORKER_ACCESS.getJob);
				const id = parseInput(jobIdSchema, jobId, "jobId");
				const [row] = await c.db.select().from(jobs).where(eq(jobs.jobId, id)).limit(1);
				return row ? toJobResult(row) : null;
			},
		},
	}),
	// Work in flight must resume after a crash.
	{ busy: (state: WorkerState) => state.current !== null },
);

type WorkerLoop = WorkflowContextOf<typeof worker>;
type WorkerStep = WorkflowStepContextOf<typeof worker>;
type JobRow = typeof jobs.$inferSelect;

type JobQueueMessage = Awaited<ReturnType<typeof receiveJobs>>[number];

/** One received job whose outcome is known and whose row is to be written. */
interface Finished {
	job: JobMessage;
	messageId: string;
	outcome: Outcome;
}

/** How each iteration of the loop is shaped; see `processIteration`. */
const ONE_JOB_PER_ITERATION = 1;
const ONE_REPORT_PER_JOB = 2;
const ONE_REPORT_PER_ITERATION = 3;

async function processIteration(loop: WorkerLoop): Promise<void> {
	// Iterations recorded by a server running an earlier version (during a
	// deploy) replay in their own shape: its step names and results are in
	// their history. Every new iteration takes the latest shape.
	const shape = await loop.getVersion("iteration-shape", ONE_REPORT_PER_ITERATION);
	if (shape === ONE_JOB_PER_ITERATION) await processOneJob(loop);
	else await processQueuedJobs(loop, shape === ONE_REPORT_PER_JOB ? "per-job" : "per-iteration");
}

function receiveJobs(loop: WorkerLoop, count: number) {
	// Completable: a message leaves the queue only at `complete()`, so a
	// crash before that redelivers it (the workflow history replays it).
	return loop.queue.nextBatch("next-job", { names: ["jobs"], count, completable: true });
}

/**
 * Takes every queued job up to `JOBS_PER_ITERATION` and runs them one after
 * another, then writes their rows in one statement, reports them and
 * completes each message. Durable writes and calls are what a job costs
 * (each is a round trip to the engine), so the steps a crash can simply
 * repeat commit together with the next one (`ephemeral`): each validate and
 * a job's last chunk. They only compute from the message, so a re-run
 * decides the same. What must happen once is the row, which the jobId's
 * primary key and `ON CONFLICT DO NOTHING` make idempotent; a crash before
 * `store-all` is recorded re-runs the iteration's unrecorded steps (every
 * validate and last chunk of up to `JOBS_PER_ITERATION` jobs, with their
 * `progress` events), never a recorded chunk of a longer job. The reports
 * leave together, in one step: sent one after another, each job waited for
 * the reports before it (docs/performance.md, "The coordinator's batch").
 */
async function processQueuedJobs(loop: WorkerLoop, reports: "per-job" | "per-iteration"): Promise<void> {
	const messages = await receiveJobs(loop, JOBS_PER_ITERATION);
	const jobIds = messages.map((m) => m.body.jobId);
	// The jobId is the idempotency key: a second delivery of the same job (a
	// coordinator's re-send, a client's retry) gets the stored result.
	// Recorded at once, never `ephemeral`: which jobs are new decides which
	// steps follow, and store-all's insert commits before store-all itself is
	// recorded. An ephemeral lookup re-run after a crash in that gap finds the
	// rows and skips store-all, so the job ends without its `jobFinished`,
	// its ledger record or `current = null` (what test/faults/queue.test.ts
	// caught). Recorded, it answers "new" again and store-all re-runs, finding
	// its rows.
	const known = await loop.step({
		name: "lookup-all",
		...STORAGE_RETRIES,
		run: (step) => findJobs(step, jobIds),
	});
	const results = new Map(known.map((r) => [r.jobId, r]));
	const toStore: Finished[] = [];
	for (const [i, message] of messages.entries()) {
		const job = message.body;
		// A jobId seen earlier in this batch runs once, like one seen before it.
		if (results.has(job.jobId) || toStore.some((f) => f.job.jobId === job.jobId)) continue;
		toStore.push({ job, messageId: String(message.id), outcome: await computeOutcome(loop, job, `.${i}`) });
	}
	if (toStore.length > 0) {
		const stored = await loop.step({
			name: "store-all",
			...STORAGE_RETRIES,
			run: (step) => storeResults(step, toStore),
		});
		for (const r of stored) results.set(r.jobId, r);
	}
	const finished = messages.map((message) => {
		const result = results.get(message.body.jobId);
		if (!result) throw new Error(`job ${message.body.jobId} has neither a stored nor a new result`);
		return { message, result };
	});
	if (reports === "per-job") {
		for (const [i, { message, result }] of finished.entries()) await finishMessage(loop, message, result, `.${i}`);
		return;
	}
	const replies = finished.flatMap(({ message, result }) =>
		message.body.reply ? [{ reply: message.body.reply, result }] : [],
	);
	await reportResults(loop, replies, REPORT_ALL_STEP);
	for (const { message, result } of finished) await message.complete(result);
}

/** The iteration shape before batching: one job, its steps under their first names. */
async function processOneJob(loop: WorkerLoop): Promise<void> {
	const [message] = await receiveJobs(loop, 1);
	if (!message) throw new Error("next-job returned no message");
	const job = message.body;
	const known = await loop.step({ name: "lookup", ...STORAGE_RETRIES, run: (step) => findJob(step, job.jobId) });
	const result =
		known ??
		(await storeOne(loop, { job, messageId: String(message.id), outcome: await computeOutcome(loop, job, "") }));
	await finishMessage(loop, message, result, "");
}

function storeOne(loop: WorkerLoop, finished: Finished): Promise<JobResult> {
	return loop.step({
		name: "store",
		...STORAGE_RETRIES,
		run: async (step) => {
			const [stored] = await storeResults(step, [finished]);
			if (!stored) throw new Error(`store: job ${finished.job.jobId} has no row`);
			return stored;
		},
	});
}

/** Reports the result to the job's coordinator, if it has one, then completes the message (what `wait: true` senders get). */
async function finishMessage(
	loop: WorkerLoop,
	message: JobQueueMessage,
	result: JobResult,
	suffix: string,
): Promise<void> {
	const { reply } = message.body;
	if (reply) await reportResults(loop, [{ reply, result }], `${REPORT_STEP}${suffix}`);
	await message.complete(result);
}

/**
 * Validates and computes one job. Step names end in `suffix` (the job's
 * place in the iteration), so several jobs' steps can share one iteration.
 * The ledger records the plain step names.
 */
async function computeOutcome(loop: WorkerLoop, job: JobMessage, suffix: string): Promise<Outcome> {
	const plan = await loop.step({
		name: `validate${suffix}`,
		ephemeral: true,
		...STORAGE_RETRIES,
		run: (step) =>
			ledgered(job.jobId, "validate", () => {
				const planned = jobCode("validate", () => planJob(job).chunks);
				if (planned.ok) step.state.current = { jobId: job.jobId, done: 0, total: planned.value };
				return planned;
			}),
	});
	return plan.ok ? await computeInSteps(loop, job, plan.value, suffix) : { status: "failed", error: plan.error };
}

async function computeInSteps(loop: WorkerLoop, job: JobMessage, chunks: number, suffix: string): Promise<Outcome> {
	try {
		const result = await computeJob(job, chunks, async <T extends ChunkTask>(index: number, task: T) => {
			const name = `chunk-${index}`;
			const chunk = await loop.step({
				name: `${name}${suffix}`,
				// Every chunk but the last commits its result, which is what
				// lets a long job resume where it was; the last one's result is
				// committed with the store that follows it.
				ephemeral: index === chunks - 1,
				...STORAGE_RETRIES,
				run: (step) =>
					ledgered(job.jobId, name, async () => {
						// On a worker thread: the event loop stays free for other actors.
						// In the owner's lane: users take turns on the threads.
						const computed = await jobCodeAsync(name, () => runOnPool(task, job.owner));
						if (!computed.ok) return computed;
						const progress = { jobId: job.jobId, done: index + 1, total: chunks };
						step.state.current = progress;
						step.broadcast("progress", progress);
						return computed;
					}),
			});
			if (!chunk.ok) throw new ChunkFailed(chunk.error);
			return chunk.value;
		});
		return { status: "done", result };
	} catch (error) {
		// Only our own signal; the workflow engine's control flow (sleeping
		// for a retry, eviction) must pass through untouched.
		if (error instanceof ChunkFailed) return { status: "failed", error: error.message };
		throw error;
	}
}

/**
 * Runs the job's own code inside a step and turns what it throws into a
 * value. That code is deterministic, so a throw is the job's outcome and a
 * retry would throw again. It is also the only way to tell such a throw from
 * a failure to persist the step: the workflow engine counts both as a failed
 * attempt, and an engine restart mid-job must cost a retry, never a job that
 * ends `failed`.
 */
function jobCode<T>(stepName: string, run: () => T): CodeOutcome<T> {
	try {
		return { ok: true, value: run() };
	} catch (error) {
		return { ok: false, error: codeError(stepName, error) };
	}
}

/**
 * `jobCode` for a chunk on the compute pool. A thread that dies (out of
 * memory, say) also rejects here and so ends the job `failed`, like a throw
 * in the chunk's code: retrying the same input would most likely do it again.
 */
async function jobCodeAsync<T>(stepName: string, run: () => Promise<T>): Promise<CodeOutcome<T>> {
	try {
		return { ok: true, value: await run() };
	} catch (error) {
		return { ok: false, error: codeError(stepName, error) };
	}
}

function codeError(stepName: string, error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return publicErrorText(`${stepName}: ${message}`);
}

/** What a client sees of a step that gave up: the step and the error's message, one line. */
function describeFailure(failure: TryStepFailure): string {
	const attempts = failure.attempts === 1 ? "" : ` (after ${failure.attempts} attempts)`;
	return publicErrorText(`${failure.stepName}${attempts}: ${failure.error.message}`);
}

async function findJob(step: WorkerStep, jobId: string): Promise<JobResult | null> {
	const [row] = await step.db.select().from(jobs).where(eq(jobs.jobId, jobId)).limit(1);
	return row ? toJobResult(row) : null;
}

/** The stored results among `jobIds`. */
async function findJobs(step: WorkerStep, jobIds: string[]): Promise<JobResult[]> {
	const rows = await step.db.select().from(jobs).where(inArray(jobs.jobId, jobIds));
	return rows.map(toJobResult);
}

/**
 * Writes one row per finished job in one statement (one commit) and returns
 * each job's stored result, in order. If this step re-runs after a crash,
 * the rows from its first run stand and are returned instead.
 */
async function storeResults(step: WorkerStep, finished: Finished[]): Promise<JobResult[]> {
	const ids = finished.map((f) => f.job.jobId);
	for (const id of ids) recordStep("START", id, "store");
	const finishedAt = Date.now();
	const inserted = await step.db
		.insert(jobs)
		.values(
			finished.map(({ job, messageId, outcome }) => ({
				jobId: job.jobId,
				messageId,
				kind: job.kind,
				status: outcome.status,
				result: outcome.status === "done" ? outcome.result : null,
				error: outcome.status === "failed" ? outcome.error : null,
				finishedAt,
			})),
		)
		.onConflictDoNothing()
		.returning();
	const rows = new Map(inserted.map((row) => [row.jobId, row]));
	const missing = ids.filter((id) => !rows.has(id));
	if (missing.length > 0) {
		for (const row of await step.db.select().from(jobs).where(inArray(jobs.jobId, missing))) rows.set(row.jobId, row);
	}
	const results = ids.map((id) => {
		const row = rows.get(id);
		if (!row) throw new Error(`store: job ${id} was neither inserted nor found`);
		return toJobResult(row);
	});
	for (const id of ids) recordStep("END", id, "store");
	step.state.current = null;
	for (const result of results) {
		// rivetkit spreads a union event type into one argument list per
		// member, so the payload is passed narrowed to one of them.
		if (result.status === "done") step.broadcast("jobFinished", result);
		else step.broadcast("jobFinished", result);
	}
	return results;
}

/**
 * Reports each result to the coordinator its job's `reply` names, all at
 * once, in one step. A coordinator settles a job once (`acceptReport`
 * updates only a row still `dispatched`), so a retry of the step may send a
 * report again.
 */
async function reportResults(
	loop: WorkerLoop,
	reports: ReadonlyArray<{ reply: JobReply; result: JobResult }>,
	name: string,
): Promise<void> {
	if (reports.length === 0) return;
	const sent = await loop.tryStep({
		name,
		maxRetries: REPORT_MAX_RETRIES,
		retryBackoffBase: RETRY_BACKOFF_BASE_MS,
		run: async (step) => {
			// A server token: `reportResult` accepts reports only from the server.
			const params = await serverConnParams();
			const workerId = step.key[0] ?? "";
			await Promise.all(
				reports.map(({ reply, result }) =>
					// `get`, not `getOrCreate`: a job must not be able to create coordinators.
					step
						.client<Registry>()
						.coordinator.get([reply.batchId], { params })
						.reportResult({ ...result, workerId, secret: reply.secret }),
				),
			);
		},
	});
	if (!sent.ok) {
		// The results are stored here either way; the coordinator's sweep will
		// re-send the jobs, and the lookup step answers them from the stored rows.
		const jobIds = reports.map(({ result }) => result.jobId);
		loop.log.warn({ msg: "could not report job results", jobIds, error: describeFailure(sent.failure) });
	}
}

function isReportStep(name: string): boolean {
	return name === REPORT_STEP || name === REPORT_ALL_STEP || name.startsWith(`${REPORT_STEP}.`);
}

function toJobResult(row: JobRow): JobResult {
	if (row.status === "done" && row.result !== null) return { jobId: row.jobId, status: "done", result: row.result };
	return { jobId: row.jobId, status: "failed", error: row.error ?? "unknown error" };
}
