// A coordinator's batch, from submit to finish: what the actions in
// coordinator.ts do (the actor definition there reads as a table of them).
// Submit claims and records the batch; dispatch sends each job to its
// worker; reports settle jobs; the sweep re-sends stuck ones and finishes.

import { createHash, randomBytes } from "node:crypto";
import { and, asc, count, eq, lte, sql } from "drizzle-orm";
import { type ActionContextOf, type ActorContextOf, UserError } from "rivetkit";
import { z } from "zod";
import { type Identity, serverConnParams } from "../../auth/connection.ts";
import { safeEqual } from "../../auth/secrets.ts";
import { forEachConcurrently } from "../../concurrency.ts";
import type { Registry } from "../../registry.ts";
import { type AccessScope, guard, guardSchedule, sendToAllowed } from "../access.ts";
import { releaseBatchFor, renewBatchFor, reserveBatchFor } from "../quota/charge.ts";
import { QUOTA_LEASE_MS } from "../quota/contract.ts";
import { chargeWrite } from "../rate-limit.ts";
import { parseInput } from "../validate.ts";
import { JobInputError, planJob } from "./compute.ts";
import {
	BATCH_ID_PATTERN,
	type BatchJobResult,
	type BatchStatus,
	COORDINATOR_ACCESS,
	type CoordinatorJobStatus,
	DEFAULT_STUCK_AFTER_MS,
	DEFAULT_SWEEP_INTERVAL_MS,
	DEFAULT_WORKERS,
	MAX_BATCH_ITEMS,
	MAX_ERROR_LENGTH,
	MAX_SEND_FAILURES,
	MAX_STUCK_AFTER_MS,
	MAX_SWEEP_INTERVAL_MS,
	MAX_WORKERS,
	MIN_STUCK_AFTER_MS,
	MIN_SWEEP_INTERVAL_MS,
	type SubmitRequest,
	type WorkerTally,
} from "./contract.ts";
import type { coordinator } from "./coordinator.ts";
import { jobs } from "./coordinator-db/schema.ts";
import { jobIdSchema, jobOutputSchema, jobSpecSchema } from "./jobs.ts";

/**
 * Queue sends in flight at once while dispatching: one per worker of the
 * largest batch (MAX_WORKERS). A send waits mostly on the engine and on its
 * worker's commits, not on this process: 100 sends over 16 workers took
 * 1.8-3.3 s with 8 in flight and 1.3-2.1 s with 16 (docs/performance.md,
 * "The coordinator's batch").
 */
export const DISPATCH_CONCURRENCY = MAX_WORKERS;

const submitSchema = z.strictObject({
	items: z.array(jobSpecSchema).min(1).max(MAX_BATCH_ITEMS),
	workers: z.int().min(1).max(MAX_WORKERS).optional(),
	sweepIntervalMs: z.int().min(MIN_SWEEP_INTERVAL_MS).max(MAX_SWEEP_INTERVAL_MS).optional(),
	stuckAfterMs: z.int().min(MIN_STUCK_AFTER_MS).max(MAX_STUCK_AFTER_MS).optional(),
});

const reportEnvelope = {
	jobId: jobIdSchema,
	workerId: z.string().min(1).max(200),
	secret: z.string().min(1).max(256),
};
const reportSchema = z.discriminatedUnion("status", [
	z.strictObject({ ...reportEnvelope, status: z.literal("done"), result: jobOutputSchema }),
	z.strictObject({ ...reportEnvelope, status: z.literal("failed"), error: z.string().min(1).max(MAX_ERROR_LENGTH) }),
]);
export type JobReport = z.input<typeof reportSchema>;

type CoordinatorContext = ActorContextOf<typeof coordinator>;
type CoordinatorActionContext = ActionContextOf<typeof coordinator>;

/**
 * The batch's owner for the access rules: the submitter whose submit is in
 * progress, else the recorded owner, else null (state saved before owners
 * existed has no `owner` field: "no owner yet").
 */
export function batchScope(c: CoordinatorContext): AccessScope {
	return { owner: c.vars.claim?.owner ?? c.state.owner ?? null };
}

type JobRow = Pick<typeof jobs.$inferSelect, "index" | "jobId" | "workerId" | "spec">;

/** Sends a batch event to the WebSocket connections its rule lets read it (its owner and operators) whose token is still valid. */
function sendToOwner(c: CoordinatorContext, name: "progress" | "finished", status: BatchStatus): void {
	sendToAllowed(c.conns.values(), COORDINATOR_ACCESS[name], batchScope(c), (conn) => conn.send(name, status));
}

async function startBatch(
	c: CoordinatorActionContext,
	me: Identity,
	batchId: string,
	req: z.output<typeof submitSchema>,
	requestHash: string,
): Promise<BatchStatus> {
	const workerIds = Array.from({ length: Math.min(req.workers ?? DEFAULT_WORKERS, req.items.length) }, (_, i) =>
		workerIdFor(batchId, i),
	);
	// A random run id in every job id: a result stored under a guessed id
	// before this batch existed can never answer for one of its jobs.
	const runId = randomBytes(9).toString("base64url");
	const startedAt = Date.now();
	const rows = req.items.map((spec, index) => ({
		index,
		jobId: `${batchId}:${runId}:${index}`,
		workerId: workerIds[index % workerIds.length] ?? "",
		spec,
		status: "dispatched" as const,
		dispatches: 1,
		dispatchedAt: startedAt,
	}));
	// Rows first, in one transaction. Until the state below is saved the
	// batch still reads as empty, so a crash in between only means the
	// client's retry replaces these rows.
	await c.db.transaction(
		async (tx) => {
			await tx.delete(jobs);
			await tx.insert(jobs).values(rows);
		},
		{ name: "submit" },
	);
	Object.assign(c.state, {
		requestHash,
		owner: me.userId,
		secret: randomBytes(24).toString("base64url"),
		workerIds,
		startedAt,
		finishedAt: null,
		sweepIntervalMs: req.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
		stuckAfterMs: req.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS,
		quota: me.role === "operator" ? null : { userId: me.userId, renewedAt: startedAt },
	});
	await ensureSweep(c);
	// From here on, a job whose send below is lost (a crash, a failed
	// request) is re-sent by the sweep.
	await c.saveState({ immediate: true });
	await forEachConcurrently(rows, DISPATCH_CONCURRENCY, (row) => dispatch(c, row));
	// Where the batch stands once every job is out, in order with the jobs'
	// own events. A batch whose jobs all finished meanwhile has sent
	// `finished`, and no `progress` may follow it.
	return inOrder(c, async () => {
		const status = await batchStatus(c);
		if (c.state.finishedAt === null) sendToOwner(c, "progress", status);
		return status;
	});
}

export function isRunning(c: CoordinatorContext): boolean {
	return c.state.requestHash !== null && c.state.finishedAt === null;
}

function batchIdOf(c: CoordinatorContext): string {
	const batchId = c.key[0] ?? "";
	if (!BATCH_ID_PATTERN.test(batchId)) {
		throw new UserError("the coordinator key must be [batchId] with 1-64 letters, digits, _ or -", {
			code: "invalid_batch_id",
		});
	}
	return batchId;
}

export function workerIdFor(batchId: string, index: number): string {
	return `${batchId}.w${index}`;
}

export async function batchStatus(c: CoordinatorContext): Promise<BatchStatus> {
	const s = c.state;
	const base = { batchId: c.key[0] ?? "", startedAt: s.startedAt, finishedAt: s.finishedAt };
	if (s.requestHash === null) return { ...base, state: "empty", total: 0, done: 0, failed: 0, workers: [] };
	const rows = await c.db
		.select({ workerId: jobs.workerId, status: jobs.status, n: count() })
		.from(jobs)
		.groupBy(jobs.workerId, jobs.status);
	const workers = s.workerIds.map((workerId): WorkerTally => {
		const of = (status: CoordinatorJobStatus) =>
			rows.find((r) => r.workerId === workerId && r.status === status)?.n ?? 0;
		return {
			workerId,
			assigned: of("dispatched") + of("done") + of("failed"),
			done: of("done"),
			failed: of("failed"),
		};
	});
	const sum = (pick: (w: WorkerTally) => number) => workers.reduce((n, w) => n + pick(w), 0);
	return {
		...base,
		state: s.finishedAt === null ? "running" : "done",
		total: sum((w) => w.assigned),
		done: sum((w) => w.done),
		failed: sum((w) => w.failed),
		workers,
	};
}

async function finish(c: CoordinatorContext): Promise<void> {
	// Checked and set without an await in between, so concurrent last
	// reports emit `finished` once.
	if (c.state.finishedAt !== null) return;
	c.state.finishedAt = Date.now();
	const sweep = c.state.sweep;
	c.state.sweep = null;
	await c.saveState({ immediate: true });
	if (sweep) await c.schedule.cancel(sweep.id);
	sendToOwner(c, "finished", await batchStatus(c));
	await releaseQuota(c);
}

/**
 * A batch's estimated compute, in chunks, for the user's quota: what the
 * workers will run (`planJob`). A wordstats text with no words takes no
 * chunk (its job fails at once) and counts as one.
 */
function estimateChunks(items: readonly z.output<typeof jobSpecSchema>[]): number {
	let chunks = 0;
	for (const spec of items) {
		try {
			chunks += planJob(spec).chunks;
		} catch (error) {
			if (!(error instanceof JobInputError)) throw error;
			chunks += 1;
		}
	}
	return chunks;
}

/**
 * Keeps the batch's quota reservation alive while it runs (from the sweep),
 * a third of a lease at a time. A failure only means the next sweep tries
 * again: the lease outlasts two missed renewals. A batch that finished
 * while the renewal was on its way releases it again.
 */
async function renewQuota(c: CoordinatorContext): Promise<void> {
	const held = c.state.quota ?? null;
	const now = Date.now();
	if (held === null || now - held.renewedAt < QUOTA_LEASE_MS / 3) return;
	try {
		const jobsInBatch = (await batchStatus(c)).total;
		await renewBatchFor(c.client<Registry>(), held.userId, c.key[0] ?? "", Math.max(1, jobsInBatch));
		c.state.quota = { userId: held.userId, renewedAt: now };
		await c.saveState({ immediate: true });
		if (!isRunning(c)) await releaseQuota(c);
	} catch (error) {
		c.log.warn({ msg: "could not renew the batch's quota reservation", error: String(error) });
	}
}

/**
 * Gives the batch's in-flight slot and jobs back to its user. If this fails
 * (the server stopped right here), the reservation lapses after
 * QUOTA_LEASE_MS, since no sweep renews a finished batch.
 */
async function releaseQuota(c: CoordinatorContext): Promise<void> {
	const held = c.state.quota ?? null;
	if (held === null) return;
	try {
		await releaseBatchFor(c.client<Registry>(), held.userId, c.key[0] ?? "");
	} catch (error) {
		c.log.warn({ msg: "could not release the batch's quota reservation", error: String(error) });
	}
}

/**
 * Sends one job to its worker's queue, with a server token (workers take
 * jobs only from the server). Never `wait: true`: two actors waiting on each
 * other can deadlock. A failed send is counted on the job's row; the sweep
 * sends it again, and after MAX_SEND_FAILURES the job is `failed`.
 */
async function dispatch(c: CoordinatorContext, row: JobRow): Promise<void> {
	const secret = c.state.secret;
	if (secret === null) return;
	const batchId = c.key[0] ?? "";
	try {
		await c
			.client<Registry>()
			.worker.getOrCreate([row.workerId], { params: await serverConnParams() })
			// The owner names the job's lane in the compute pool (./compute-pool.ts):
			// each user's chunks take turns with every other user's.
			.send("jobs", { ...row.spec, jobId: row.jobId, owner: c.state.owner ?? undefined, reply: { batchId, secret } });
	} catch (error) {
		c.log.warn({ msg: "dispatch failed", jobId: row.jobId, error: String(error) });
		await recordSendFailure(c, row.index);
	}
}

async function recordSendFailure(c: CoordinatorContext, index: number): Promise<void> {
	const [row] = await c.db
		.update(jobs)
		.set({ sendFailures: sql`${jobs.sendFailures} + 1` })
		.where(and(eq(jobs.index, index), eq(jobs.status, "dispatched")))
		.returning({ sendFailures: jobs.sendFailures });
	if (!row || row.sendFailures < MAX_SEND_FAILURES) return;
	const [failed] = await c.db
		.update(jobs)
		.set({
			status: "failed",
			error: `could not be sent to its worker (${MAX_SEND_FAILURES} failed sends)`,
			finishedAt: Date.now(),
		})
		.where(and(eq(jobs.index, index), eq(jobs.status, "dispatched")))
		.returning({ index: jobs.index });
	if (failed) await jobSettled(c);
}

/**
 * A job reached `done` or `failed`: tell the owner, and close the batch after
 * its last job. One at a time, in the order the jobs settled (see
 * `CoordinatorVars.settled`); jobs that settle while a step waits its turn
 * share that step (`CoordinatorVars.settleQueued`).
 */
function jobSettled(c: CoordinatorContext): Promise<void> {
	if (c.vars.settleQueued) return c.vars.settleQueued;
	const queued = inOrder(c, async () => {
		c.vars.settleQueued = null;
		// An earlier step may have read this job's row already and closed the
		// batch: `finished` said it all, and no `progress` may follow it.
		if (c.state.finishedAt !== null) return;
		const status = await batchStatus(c);
		sendToOwner(c, "progress", status);
		if (status.done + status.failed === status.total) await finish(c);
	});
	c.vars.settleQueued = queued;
	return queued;
}

/** Runs `step` after every step queued before it (see `CoordinatorVars.settled`). */
function inOrder<T>(c: CoordinatorContext, step: () => Promise<T>): Promise<T> {
	const run = c.vars.settled.then(step);
	// The next step runs after this one whether it succeeded or not; this
	// caller still gets its own outcome.
	c.vars.settled = run.then(
		() => {},
		() => {},
	);
	return run;
}

/**
 * Re-sends jobs in flight longer than `stuckAfterMs`: once after a send that
 * reached the worker (`dispatches - sendFailures` counts those), and after
 * every send that failed, until `recordSendFailure` gives up on the job.
 */
async function redispatchStuckJobs(c: CoordinatorContext): Promise<void> {
	const cutoff = Date.now() - c.state.stuckAfterMs;
	const stuck = await c.db
		.select({ index: jobs.index, dispatches: jobs.dispatches })
		.from(jobs)
		.where(
			and(
				eq(jobs.status, "dispatched"),
				lte(jobs.dispatchedAt, cutoff),
				lte(sql`${jobs.dispatches} - ${jobs.sendFailures}`, 1),
			),
		);
	for (const { index, dispatches } of stuck) {
		// Claim before sending: the row's `dispatches` moves on in one
		// statement, so however sweeps overlap, each re-send happens once.
		const [claimed] = await c.db
			.update(jobs)
			.set({ dispatches: dispatches + 1, dispatchedAt: Date.now() })
			.where(and(eq(jobs.index, index), eq(jobs.status, "dispatched"), eq(jobs.dispatches, dispatches)))
			.returning({ index: jobs.index, jobId: jobs.jobId, workerId: jobs.workerId, spec: jobs.spec });
		if (claimed) await dispatch(c, claimed);
	}
}

/**
 * Keeps one sweep schedule pending while the batch runs. Callers save the
 * state: `saveState({ immediate: true })` never resolves inside onWake in
 * rivetkit 2.3.19. If a crash loses the new token, the schedule still wakes
 * the actor when it fires; it is refused, and onWake arms a new one.
 */
export async function ensureSweep(c: CoordinatorContext): Promise<void> {
	const armed = c.state.sweep;
	if (armed && (await c.schedule.get(armed.id))) return;
	const token = randomBytes(16).toString("base64url");
	const id = await c.schedule.after(c.state.sweepIntervalMs, "sweep", token);
	c.state.sweep = { id, token };
}

export async function submitBatch(c: CoordinatorActionContext, request: SubmitRequest): Promise<BatchStatus> {
	// Everything from here to the claim below is synchronous: of two
	// concurrent first submits, exactly one claims the batch. The submitter
	// becomes the owner (recorded with the batch's rows in `startBatch`).
	const me = guard(c, COORDINATOR_ACCESS.submit, batchScope(c));
	const req = parseInput(submitSchema, request, "request");
	const batchId = batchIdOf(c);
	const requestHash = createHash("sha256").update(JSON.stringify(req)).digest("hex");
	const heldHash = c.vars.claim?.requestHash ?? c.state.requestHash;
	if (heldHash !== null && heldHash !== requestHash) {
		throw new UserError("this batch was already submitted with other items; use a new batch id", {
			code: "batch_already_submitted",
		});
	}
	if (c.vars.claim) {
		throw new UserError("this batch is being submitted right now; ask for its status", {
			code: "submit_in_progress",
		});
	}
	chargeWrite(c.vars.submits, me);
	if (c.state.requestHash !== null) return batchStatus(c);
	c.vars.claim = { owner: me.userId, requestHash };
	try {
		// The user's quota first: a refusal leaves the batch empty. A
		// retry of this submit reserves the same batch id again, which
		// charges nothing more.
		if (me.role !== "operator") {
			await reserveBatchFor(c.client<Registry>(), me.userId, {
				batchId,
				jobs: req.items.length,
				chunks: estimateChunks(req.items),
			});
		}
		return await startBatch(c, me, batchId, req, requestHash);
	} finally {
		c.vars.claim = null;
	}
}

export async function batchResults(c: CoordinatorActionContext): Promise<BatchJobResult[]> {
	guard(c, COORDINATOR_ACCESS.results, batchScope(c));
	if (c.state.requestHash === null) return [];
	const rows = await c.db.select().from(jobs).orderBy(asc(jobs.index));
	return rows.map((row) => ({
		jobId: row.jobId,
		workerId: row.workerId,
		status: row.status,
		...(row.result !== null ? { result: row.result } : {}),
		...(row.error !== null ? { error: row.error } : {}),
		dispatches: row.dispatches,
	}));
}

export async function acceptReport(c: CoordinatorActionContext, report: JobReport): Promise<{ accepted: boolean }> {
	guard(c, COORDINATOR_ACCESS.reportResult);
	const r = parseInput(reportSchema, report, "report");
	if (c.state.secret === null || !safeEqual(r.secret, c.state.secret)) {
		throw new UserError("reportResult is for this batch's workers", { code: "forbidden" });
	}
	const [updated] = await c.db
		.update(jobs)
		.set({
			status: r.status,
			result: r.status === "done" ? r.result : null,
			error: r.status === "failed" ? r.error : null,
			finishedAt: Date.now(),
		})
		.where(and(eq(jobs.jobId, r.jobId), eq(jobs.workerId, r.workerId), eq(jobs.status, "dispatched")))
		.returning({ index: jobs.index });
	if (!updated) {
		const [known] = await c.db
			.select({ index: jobs.index })
			.from(jobs)
			.where(and(eq(jobs.jobId, r.jobId), eq(jobs.workerId, r.workerId)));
		if (!known) throw new UserError(`no job ${r.jobId} for worker ${r.workerId}`, { code: "unknown_job" });
		return { accepted: false };
	}
	await jobSettled(c);
	return { accepted: true };
}

export async function resumeBatch(c: CoordinatorActionContext): Promise<{ running: boolean }> {
	guard(c, COORDINATOR_ACCESS.resume);
	if (!isRunning(c)) return { running: false };
	await ensureSweep(c);
	await c.saveState({ immediate: true });
	const params = await serverConnParams();
	await forEachConcurrently(c.state.workerIds, DISPATCH_CONCURRENCY, async (workerId) => {
		await c.client<Registry>().worker.getOrCreate([workerId], { params }).status();
	});
	return { running: true };
}

export async function runSweep(c: CoordinatorActionContext, token: unknown): Promise<void> {
	guardSchedule(c, COORDINATOR_ACCESS.sweep);
	if (typeof token !== "string" || c.state.sweep === null || !safeEqual(token, c.state.sweep.token)) {
		throw new UserError("sweep is called by the coordinator's own schedule, not by clients", {
			code: "forbidden",
		});
	}
	c.state.sweep = null;
	if (!isRunning(c)) {
		await c.saveState({ immediate: true });
		return;
	}
	// Re-arm first, so nothing below can end the chain.
	await ensureSweep(c);
	await c.saveState({ immediate: true });
	await renewQuota(c);
	await redispatchStuckJobs(c);
	// A crash between a report's row update and `finish` leaves a batch
	// whose jobs are all done but that never said so; this closes it.
	const status = await batchStatus(c);
	if (status.done + status.failed === status.total) await finish(c);
}
