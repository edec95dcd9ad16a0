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
// Flow, per job (one iteration of the workflow loop):
//   1. next-job: take a completable message from the `jobs` queue.
//   2. lookup: a jobId seen before returns its stored result.
//   3. validate, then chunk-0 … chunk-n: one step per chunk, each emits `progress`.
//   4. store: writes the row, emits `jobFinished`.
//   5. report: to the coordinator, if the job has a `reply`.
//   6. complete the message with the result (what `wait: true` senders get).
// Every step's result is recorded in the workflow history together with the
// actor state, so after a crash the workflow replays finished steps from the
// history and re-runs only the step that was in flight.
//
// Step and loop names are recorded in that history: renaming one breaks the
// replay of jobs in flight during a deploy. Add new steps under new names.
//
// rivetkit 2.3.19 needs help to resume a crashed actor with no traffic:
// `withCrashRecovery` and `restartAfterFailure` (src/workarounds/) add that
// from outside; delete both lines when rivetkit no longer needs them.

import { count, eq } from "drizzle-orm";
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
import { ledgered } from "./ledger.ts";
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
/** The step that reports a result to the coordinator; the only step allowed to give up. */
const REPORT_STEP = "report";
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
					await processNextJob(loop);
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
					if ("step" in event && !event.step.willRetry && event.step.stepName !== REPORT_STEP) {
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

async function processNextJob(loop: WorkerLoop): Promise<void> {
	// Completable: the message leaves the queue only at `complete()` below, so
	// a crash before that redelivers it (the workflow history replays it).
	const message = await loop.queue.next("next-job", { names: ["jobs"], completable: true });
	const job = message.body;
	// The jobId is the idempotency key: a second delivery of the same job (a
	// coordinator's re-send, a client's retry) gets the stored result.
	const known = await loop.step({ name: "lookup", ...STORAGE_RETRIES, run: (step) => findJob(step, job.jobId) });
	const result = known ?? (await runJob(loop, job, String(message.id)));
	if (job.reply) await reportResult(loop, job.reply, result);
	await message.complete(result);
}

async function runJob(loop: WorkerLoop, job: JobMessage, messageId: string): Promise<JobResult> {
	const plan = await loop.step({
		name: "validate",
		...STORAGE_RETRIES,
		run: (step) =>
			ledgered(job.jobId, "validate", () => {
				const planned = jobCode("validate", () => planJob(job).chunks);
				if (planned.ok) step.state.current = { jobId: job.jobId, done: 0, total: planned.value };
				return planned;
			}),
	});
	const outcome: Outcome = plan.ok
		? await computeInSteps(loop, job, plan.value)
		: { status: "failed", error: plan.error };
	// Its result and the actor state are written together before the workflow
	// moves on, so the stored row, `current = null` and the history agree
	// before the message is completed.
	return loop.step({
		name: "store",
		...STORAGE_RETRIES,
		run: (step) => ledgered(job.jobId, "store", () => storeResult(step, job, messageId, outcome)),
	});
}

async function computeInSteps(loop: WorkerLoop, job: JobMessage, chunks: number): Promise<Outcome> {
	try {
		const result = await computeJob(job, chunks, async <T extends ChunkTask>(index: number, task: T) => {
			const name = `chunk-${index}`;
			const chunk = await loop.step({
				name,
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

async function storeResult(step: WorkerStep, job: JobMessage, messageId: string, outcome: Outcome): Promise<JobResult> {
	const [inserted] = await step.db
		.insert(jobs)
		.values({
			jobId: job.jobId,
			messageId,
			kind: job.kind,
			status: outcome.status,
			result: outcome.status === "done" ? outcome.result : null,
			error: outcome.status === "failed" ? outcome.error : null,
			finishedAt: Date.now(),
		})
		// If this step re-runs after a crash, the row from its first run stands.
		.onConflictDoNothing()
		.returning();
	const stored = inserted ?? (await step.db.select().from(jobs).where(eq(jobs.jobId, job.jobId)))[0];
	if (!stored) throw new Error(`store: job ${job.jobId} was neither inserted nor found`);
	const result = toJobResult(stored);
	step.state.current = null;
	// rivetkit spreads a union event type into one argument list per member,
	// so the payload is passed narrowed to one of them.
	if (result.status === "done") step.broadcast("jobFinished", result);
	else step.broadcast("jobFinished", result);
	return result;
}

async function reportResult(loop: WorkerLoop, reply: JobReply, result: JobResult): Promise<void> {
	const sent = await loop.tryStep({
		name: REPORT_STEP,
		maxRetries: REPORT_MAX_RETRIES,
		retryBackoffBase: RETRY_BACKOFF_BASE_MS,
		run: async (step) => {
			// `get`, not `getOrCreate`: a job must not be able to create coordinators.
			// A server token: `reportResult` accepts reports only from the server.
			const coordinator = step.client<Registry>().coordinator.get([reply.batchId], {
				params: await serverConnParams(),
			});
			await coordinator.reportResult({ ...result, workerId: step.key[0] ?? "", secret: reply.secret });
		},
	});
	if (!sent.ok) {
		// The result is stored here either way; the coordinator's sweep will
		// re-send the job, and the lookup step answers it from the stored row.
		loop.log.warn({ msg: "could not report a job result", jobId: result.jobId, error: describeFailure(sent.failure) });
	}
}

function toJobResult(row: JobRow): JobResult {
	if (row.status === "done" && row.result !== null) return { jobId: row.jobId, status: "done", result: row.result };
	return { jobId: row.jobId, status: "failed", error: row.error ?? "unknown error" };
}
