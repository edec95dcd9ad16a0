// worker: runs computation jobs from its `jobs` queue, one at a time, as a
// durable workflow.
//
// Key: `[workerId]`. A coordinator names its workers `<batchId>.w<n>`; any
// client may also send jobs straight to a worker of its own.
// Owns: one SQLite row per finished job (results survive sleep and crashes),
// the job in flight (state, small), and a watchdog schedule.
// Flow, per job (one iteration of the workflow loop):
//   next-job (a completable queue message) → lookup (a jobId seen before
//   returns its stored result) → validate → chunk-0 … chunk-n (one step per
//   chunk, each emits `progress`) → store (writes the row, emits
//   `jobFinished`) → report (to the coordinator, if the job has a `reply`)
//   → complete the message with the result (what `wait: true` senders get).
// Every step's result is recorded in the workflow history together with the
// actor state, so after a crash the workflow replays finished steps from the
// history and re-runs only the step that was in flight.
//
// Step and loop names are recorded in that history: renaming one breaks the
// replay of jobs in flight during a deploy. Add new steps under new names.

import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { type ActorContextOf, actor, event, type RunContextOf, UserError } from "rivetkit";
import { db } from "rivetkit/db/drizzle";
import { type TryStepFailure, type WorkflowContextOf, type WorkflowStepContextOf, workflow } from "rivetkit/workflow";
import workerMigrations from "../db/worker/migrations.ts";
import { jobs } from "../db/worker/schema.ts";
import { computeJob, planJob } from "../jobs/compute.ts";
import {
	type JobMessage,
	type JobOutput,
	type JobReply,
	type JobResult,
	jobIdSchema,
	jobMessageSchema,
	jobResultSchema,
	publicErrorText,
} from "../jobs/jobs.ts";
import { ledgered } from "../jobs/ledger.ts";
import type { Registry } from "../registry.ts";
import { parseInput } from "../shared/validate.ts";

/** Idle time before the worker sleeps. Shorter than the watchdog interval (see `ensureWatchdog`). */
export const WORKER_SLEEP_TIMEOUT_MS = 10_000;
/** How often an awake worker's watchdog fires; also the longest a crashed job waits to resume. */
export const WATCHDOG_INTERVAL_MS = 15_000;
/**
 * Least time left on the watchdog whenever a job makes progress; below it,
 * the watchdog is pushed back to a full interval. A crash mid-job then leaves
 * the server at least this long to come back before the watchdog fires (see
 * `keepWatchdogAhead` for why that matters).
 */
export const WATCHDOG_MIN_LEAD_MS = 10_000;
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

export interface JobProgress {
	jobId: string;
	/** Chunks finished. */
	done: number;
	total: number;
}

export interface WorkerStatus {
	workerId: string;
	current: JobProgress | null;
	completed: number;
	failed: number;
}

/** Per generation, never saved: set when this generation gave up and is going to sleep to restart. */
interface WorkerVars {
	restarting: boolean;
	/**
	 * `keepWatchdogAhead` bound to this generation's actor context, set in
	 * `onWake`: workflow steps have no `schedule` of their own.
	 */
	keepWatchdogAhead: (() => Promise<void>) | null;
}

interface WorkerState {
	/** The job in flight, if any. */
	current: JobProgress | null;
	/**
	 * The pending watchdog schedule, the token its callback must present and
	 * when it fires (epoch ms; absent in state saved before it was recorded).
	 */
	watchdog: { id: string; token: string; runAt?: number } | null;
}

type Outcome = { status: "done"; result: JobOutput } | { status: "failed"; error: string };

/** What the job's own code did inside a step; recorded in the workflow history like any step result. */
type CodeOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** Thrown out of `computeJob` when a chunk's own code threw: the job ends `failed`. */
class ChunkFailed extends Error {
	override name = "ChunkFailed";
}

export const worker = actor({
	options: { name: "Worker", icon: "gears", sleepTimeout: WORKER_SLEEP_TIMEOUT_MS },
	state: { current: null, watchdog: null } as WorkerState,
	createVars: (): WorkerVars => ({ restarting: false, keepWatchdogAhead: null }),
	db: db({ schema: { jobs }, migrations: workerMigrations }),
	events: {
		progress: event<JobProgress>(),
		jobFinished: event<JobResult>(),
	},
	queues: {
		// rivetkit validates the body with this schema when it is sent, and
		// rejects a bad one with `actor.validation_error` (it never enters the
		// queue). `complete` types the response `wait: true` senders receive.
		jobs: { message: jobMessageSchema, complete: jobResultSchema },
	},

	onWake: async (c) => {
		c.vars.keepWatchdogAhead = () => keepWatchdogAhead(c);
		await ensureWatchdog(c);
	},

	onSleep: async (c) => {
		// Idle: nothing to resume, so nothing should wake us. With a job in
		// flight (a deploy is draining us) or a restart under way (jobs may
		// still be queued) the watchdog stays armed to bring the worker back
		// without any client traffic.
		if (c.state.current === null && !c.vars.restarting) await disarmWatchdog(c);
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
			const id = parseInput(jobIdSchema, jobId, "jobId");
			const [row] = await c.db.select().from(jobs).where(eq(jobs.jobId, id)).limit(1);
			return row ? toJobResult(row) : null;
		},

		/**
		 * The watchdog schedule's callback. Schedules can only call actions, so
		 * clients can reach it too; the token, known only to the pending
		 * schedule, keeps them out.
		 */
		watchdog: async (c, token: unknown): Promise<void> => {
			if (typeof token !== "string" || token !== c.state.watchdog?.token) {
				throw new UserError("watchdog is called by the worker's own schedule, not by clients", {
					code: "forbidden",
				});
			}
			c.state.watchdog = null;
			// Firing woke the actor, which is all a crashed job needs: the
			// workflow resumes as the actor starts. Re-arm while awake.
			await ensureWatchdog(c);
		},
	},
});

type WorkerContext = ActorContextOf<typeof worker>;
type WorkerRunContext = RunContextOf<typeof worker>;
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
		run: async (step) => {
			await step.vars.keepWatchdogAhead?.();
			return ledgered(job.jobId, "store", () => storeResult(step, job, messageId, outcome));
		},
	});
}

async function computeInSteps(loop: WorkerLoop, job: JobMessage, chunks: number): Promise<Outcome> {
	try {
		const result = await computeJob(job, chunks, async (index, compute) => {
			const name = `chunk-${index}`;
			const chunk = await loop.step({
				name,
				...STORAGE_RETRIES,
				run: async (step) => {
					await step.vars.keepWatchdogAhead?.();
					return ledgered(job.jobId, name, () => {
						const computed = jobCode(name, compute);
						if (!computed.ok) return computed;
						const progress = { jobId: job.jobId, done: index + 1, total: chunks };
						step.state.current = progress;
						step.broadcast("progress", progress);
						return computed;
					});
				},
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
		const message = error instanceof Error ? error.message : String(error);
		return { ok: false, error: publicErrorText(`${stepName}: ${message}`) };
	}
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
			const coordinator = step.client<Registry>().coordinator.get([reply.batchId]);
			await coordinator.reportResult({ ...result, workerId: step.key[0] ?? "", secret: reply.secret });
		},
	});
	if (!sent.ok) {
		// The result is stored here either way; the coordinator's sweep will
		// re-send the job, and the lookup step answers it from the stored row.
		loop.log.warn({ msg: "could not report a job result", jobId: result.jobId, error: describeFailure(sent.failure) });
	}
}

/**
 * Keeps one watchdog schedule pending while the worker is awake.
 *
 * A crash stops the workflow, and nothing restarts an actor that receives no
 * traffic (measured: a job in flight did not resume within 60 s). A pending
 * schedule does: it survives the crash and wakes the actor, whose workflow
 * then resumes the job. Armed on every wake and re-armed each time it fires,
 * so one is always pending while the worker is awake. The interval is longer
 * than the sleep timeout, so an idle worker falls asleep first and `onSleep`
 * cancels the watchdog instead of being woken by it forever.
 */
async function ensureWatchdog(c: WorkerContext): Promise<void> {
	const armed = c.state.watchdog;
	if (armed && (await c.schedule.get(armed.id))) return;
	await armWatchdog(c);
}

/**
 * Schedules a watchdog a full interval from now and records it.
 *
 * The schedule is durable once `at` resolves; that is what matters. The token
 * rides the next state save: `saveState({ immediate: true })` never resolves
 * inside onWake in rivetkit 2.3.19 (the actor then fails to start). If a
 * crash loses the token, the old schedule still wakes the actor when it
 * fires; it is refused, and onWake arms a new one.
 */
async function armWatchdog(c: WorkerContext): Promise<void> {
	const token = randomUUID();
	const runAt = Date.now() + WATCHDOG_INTERVAL_MS;
	const id = await c.schedule.at(runAt, "watchdog", token);
	c.state.watchdog = { id, token, runAt };
}

/**
 * Pushes the watchdog back to a full interval when less than
 * `WATCHDOG_MIN_LEAD_MS` is left; the steps that make progress call it
 * (through `c.vars`).
 *
 * Why: rivetkit 2.3.19 loses a schedule whose wake finds no app server. The
 * engine wakes the actor, its `/start` request is refused, it counts that as
 * a crash, and the crash policy rivetkit's client always sets (`sleep`) puts
 * the actor to sleep with the alarm already spent. Measured with the only app
 * server killed and started again 3-4 s later: when the watchdog fell inside
 * that gap the worker slept with 53 jobs queued and never resumed on its own.
 * A watchdog kept at least 10 s ahead of the last progress gives a crashed
 * server that long to come back. Costs one re-arm per 5 s of activity.
 */
async function keepWatchdogAhead(c: WorkerContext): Promise<void> {
	const armed = c.state.watchdog;
	if (armed?.runAt !== undefined && armed.runAt - Date.now() >= WATCHDOG_MIN_LEAD_MS) return;
	// The new one is armed before the old one is cancelled: never a moment without one.
	await armWatchdog(c);
	if (armed) await c.schedule.cancel(armed.id);
}

async function disarmWatchdog(c: WorkerContext): Promise<void> {
	const armed = c.state.watchdog;
	if (!armed) return;
	await c.schedule.cancel(armed.id);
	// rivetkit saves the state right after onSleep returns.
	c.state.watchdog = null;
}

/**
 * The workflow itself failed (not a step, which retries on its own): the
 * run handler has ended and this generation of the actor would stay awake
 * with no loop taking jobs. Measured cause: the engine dying mid-commit
 * leaves the actor's SQLite connection unusable ("remote sqlite commit result
 * is indeterminate after envoy disconnect", then "disk I/O error" on every
 * statement), so every later step fails too. Sleeping ends this generation;
 * the watchdog wakes a fresh one, with a fresh connection, whose workflow
 * replays its history and re-runs only the step that was in flight.
 */
function restartAfterFailure(c: WorkerRunContext, error: string): void {
	c.log.error({ msg: "worker workflow failed; restarting the actor to resume its jobs", error });
	c.vars.restarting = true;
	c.sleep();
}

function toJobResult(row: JobRow): JobResult {
	if (row.status === "done" && row.result !== null) return { jobId: row.jobId, status: "done", result: row.result };
	return { jobId: row.jobId, status: "failed", error: row.error ?? "unknown error" };
}
