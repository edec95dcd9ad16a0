// coordinator: runs one batch of jobs across a few workers and keeps score.
//
// Key: `[batchId]`. One coordinator per batch: its state stays a handful of
// fields whatever the history of batches, its SQLite holds exactly one
// batch's jobs (capped at MAX_BATCH_ITEMS), and a finished batch simply goes
// to sleep. A new batch is a new key.
// Owns: the batch settings, its owner (the first submitter) and its secret
// (state), one row per job with its status and result (SQLite), and the
// sweep schedule.
// Flow (the actions' bodies are in ./batch.ts):
//   1. Every connection proves who it is with a token, verified once in
//      `createConnState`.
//   2. `submit` (a signed-in user) claims the batch before its first await,
//      reserves it on the user's quota, records every job and arms the sweep.
//   3. Each job goes to its worker's `jobs` queue (`<batchId>.w<n>`, round
//      robin) without waiting, with a server token: workers accept jobs only
//      from the server. Job ids carry a random run id, so nothing stored
//      before the batch existed can answer for one of its jobs.
//   4. Workers call `reportResult` with a server token and the batch secret
//      they received in the job; each first report updates one row and emits
//      `progress` to the owner, the last one emits `finished`.
//   5. The sweep re-sends any job in flight longer than `stuckAfterMs`: once
//      after a send that reached its worker (the send wakes a worker that
//      crashed, and a worker that already ran the job answers from its stored
//      result), and again after sends that failed, until MAX_SEND_FAILURES of
//      them mark the job `failed`.
// A server that starts calls `resume` on sleeping batches, which wakes their
// workers (a workaround for sweeps spent during an outage:
// src/workarounds/resume-after-outage.ts). Who may call what is
// `COORDINATOR_ACCESS` in ./contract.ts, decided by `guard` (../access.ts).

import { actor, event } from "rivetkit";
import { db } from "rivetkit/db/drizzle";
import { type ActorConnState, connStateFor } from "../../auth/connection.ts";
import { logWakeFailure } from "../../workarounds/wake-failure-log.ts";
import { guard } from "../access.ts";
import { RateLimiter } from "../rate-limit.ts";
import { admitOrForget } from "../strangers.ts";
import {
	acceptReport,
	batchResults,
	batchScope,
	batchStatus,
	ensureSweep,
	isRunning,
	type JobReport,
	resumeBatch,
	runSweep,
	submitBatch,
} from "./batch.ts";
import {
	type BatchJobResult,
	type BatchStatus,
	COORDINATOR_ACCESS,
	DEFAULT_STUCK_AFTER_MS,
	DEFAULT_SWEEP_INTERVAL_MS,
	SUBMIT_BURST,
	SUBMITS_PER_SECOND,
	type SubmitRequest,
} from "./contract.ts";
import coordinatorMigrations from "./coordinator-db/migrations.ts";
import { jobs } from "./coordinator-db/schema.ts";

export interface CoordinatorState {
	/** Hash of the accepted `submit` request; null while the batch is empty. */
	requestHash: string | null;
	/** The user id of the submitter; null while the batch is empty. */
	owner: string | null;
	/** Carried in every job; a report must present it. Never leaves the server side. */
	secret: string | null;
	workerIds: string[];
	startedAt: number | null;
	finishedAt: number | null;
	sweepIntervalMs: number;
	stuckAfterMs: number;
	/** The pending sweep schedule and the token its callback must present. */
	sweep: { id: string; token: string } | null;
	/**
	 * The user whose quota (src/actors/quota) holds this batch while it runs,
	 * and when the sweep last renewed that reservation. Null for a batch an
	 * operator submitted (operators have no quota); absent in state saved
	 * before quotas existed, which reads as null.
	 */
	quota?: { userId: string; renewedAt: number } | null;
}

export interface CoordinatorVars {
	/**
	 * The submit in progress, claimed before its first await. In memory only:
	 * the durable state changes only once the rows are written, so a crash
	 * mid-submit leaves an empty batch that the client's retry fills.
	 */
	claim: { owner: string; requestHash: string } | null;
	/** Per-user submit limits; in memory, so they reset when the actor sleeps. */
	submits: RateLimiter;
	/**
	 * The last "read the status, tell the owner" step (a job settled, or
	 * submit finished sending). They run concurrently and each status read is
	 * an await, so two of them could resolve out of order: a `progress` event
	 * with fewer jobs done followed one with more (seen once in 24-job
	 * batches). Each step waits for the one before it, so events only ever
	 * move forward, and a step that finds the batch finished sends nothing:
	 * a `progress` after `finished` was seen when two reports' rows were
	 * both updated before the first step read them.
	 */
	settled: Promise<void>;
	/**
	 * A settle step queued on `settled` that has not read the status yet.
	 * A job settling meanwhile joins it instead of queueing its own: that
	 * read comes after the job's row was updated, so it counts the job too.
	 * Without this, every report waited for one status read per report
	 * before it, one after another.
	 */
	settleQueued: Promise<void> | null;
}

export const coordinator = actor({
	options: { name: "Coordinator", icon: "diagram-project" },
	state: {
		requestHash: null,
		owner: null,
		secret: null,
		workerIds: [],
		startedAt: null,
		finishedAt: null,
		sweepIntervalMs: DEFAULT_SWEEP_INTERVAL_MS,
		stuckAfterMs: DEFAULT_STUCK_AFTER_MS,
		sweep: null,
		quota: null,
	} as CoordinatorState,
	createVars: (): CoordinatorVars => ({
		claim: null,
		submits: new RateLimiter({ burst: SUBMIT_BURST, perSecond: SUBMITS_PER_SECOND }),
		settled: Promise.resolve(),
		settleQueued: null,
	}),
	db: db({ schema: { jobs }, migrations: coordinatorMigrations }),
	events: {
		progress: event<BatchStatus>(),
		finished: event<BatchStatus>(),
	},

	// Runs for WebSocket connections and for every stateless HTTP call. A
	// refused first connection leaves no coordinator behind (src/actors/strangers.ts):
	// it would otherwise be woken by the resume at start, and crowd real batches out of it.
	createConnState: (c, params: unknown): Promise<ActorConnState> => {
		const holdsNothing = () =>
			c.state.requestHash === null && (c.state.owner ?? null) === null && c.vars.claim === null;
		return admitOrForget(c, holdsNothing, () => connStateFor(params, c.request));
	},

	// Schedules survive sleep and crashes; this only repairs a chain that a
	// crash cut between firing and re-arming. A failure is logged (a
	// workaround: rivetkit logs nothing when onWake throws).
	onWake: (c): Promise<void> =>
		logWakeFailure(c, async () => {
			if (isRunning(c)) await ensureSweep(c);
		}),

	actions: {
		/**
		 * Starts the batch: one job per item, spread over `workers` workers.
		 * Repeating the same request returns the batch's status (safe to
		 * retry); a different request for a started batch is rejected.
		 */
		submit: (c, request: SubmitRequest): Promise<BatchStatus> => submitBatch(c, request),

		status: (c): Promise<BatchStatus> => {
			guard(c, COORDINATOR_ACCESS.status, batchScope(c));
			return batchStatus(c);
		},

		/** Every job in submission order, with its result once reported. */
		results: (c): Promise<BatchJobResult[]> => batchResults(c),

		/**
		 * Called by workers, with a server token (only this app's server can
		 * mint one) and the batch secret, which travels only inside this
		 * batch's jobs. The first report per job counts; repeats (a re-sent
		 * job, a retried call) change nothing.
		 */
		reportResult: (c, report: JobReport): Promise<{ accepted: boolean }> => acceptReport(c, report),

		/**
		 * Called by the server after it starts
		 * (`src/workarounds/resume-after-outage.ts`): a running batch re-arms its
		 * sweep and wakes its workers, whose queues still hold their jobs.
		 * Changes nothing for a batch that is empty or finished.
		 */
		resume: (c): Promise<{ running: boolean }> => resumeBatch(c),

		/**
		 * The sweep schedule's callback: re-sends stuck jobs.
		 * Schedules can only call actions, so clients can reach it too; the
		 * token, known only to the pending schedule, keeps them out.
		 */
		sweep: (c, token: unknown): Promise<void> => runSweep(c, token),
	},
});
