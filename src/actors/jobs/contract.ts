// What a client of the jobs family (coordinator and worker) may rely on: the
// limits they enforce and the shapes of their events and action results.
// Browser-importable (the web app's Jobs panel imports it): its only imports
// are types, which the compiler erases.

import type { AccessTable } from "../access-contract.ts";
import type { JobOutput, JobSpec } from "./jobs.ts";

export type {
	JobKind,
	JobMessage,
	JobOutput,
	JobReply,
	JobResult,
	JobSpec,
	PrimesOutput,
	Sha256Output,
	WordstatsOutput,
} from "./jobs.ts";

// Job inputs.

/** Largest `limit` for `primes`: the sieve stays well under a second. */
export const MAX_PRIME_LIMIT = 2_000_000;
/** Most `rounds` for `sha256`: about one second of hashing. */
export const MAX_HASH_ROUNDS = 1_000_000;
/** Longest `text` for `sha256` and `wordstats`; keeps a message far below the 64 KiB queue limit. */
export const MAX_JOB_TEXT = 16_000;
/** Longest error text a failed job carries back to clients. */
export const MAX_ERROR_LENGTH = 500;
/** Ids: job ids, batch ids and worker ids share one conservative alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;

// Coordinator batches.

/** Most items one batch may hold; bounds the batch's rows and its dispatch time. */
export const MAX_BATCH_ITEMS = 200;
/** Most workers one batch may use. */
export const MAX_WORKERS = 16;
export const DEFAULT_WORKERS = 4;
/**
 * How often the sweep looks for stuck jobs, by default and within bounds.
 * Every sweep wakes the coordinator, reads its jobs and may renew its quota
 * reservation, for as long as the batch runs: the minimum bounds that cost
 * at one sweep per second per batch (and a user runs at most
 * MAX_BATCHES_IN_FLIGHT_PER_USER batches, src/actors/quota/contract.ts).
 */
export const DEFAULT_SWEEP_INTERVAL_MS = 5_000;
export const MIN_SWEEP_INTERVAL_MS = 1_000;
export const MAX_SWEEP_INTERVAL_MS = 60_000;
/** How long a job may be in flight before the sweep re-sends it, by default and within bounds. */
export const DEFAULT_STUCK_AFTER_MS = 60_000;
export const MIN_STUCK_AFTER_MS = 200;
export const MAX_STUCK_AFTER_MS = 60 * 60_000;

export const BATCH_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Failed sends of one job (its worker's queue refused it, the engine was
 * down) before the job is marked `failed` and the sweep stops trying it.
 */
export const MAX_SEND_FAILURES = 5;
/** `submit` calls one user may make at once on one coordinator (retries included). */
export const SUBMIT_BURST = 5;
/** `submit` calls per second one user regains on one coordinator (in memory, per actor: see src/actors/rate-limit.ts). */
export const SUBMITS_PER_SECOND = 0.5;

/**
 * Who may do what on a coordinator. The first signed-in user to submit a
 * batch becomes its owner; the batch's status, results and events are the
 * owner's (and operators'). Workers only ever hear from coordinators.
 */
export const COORDINATOR_ACCESS = {
	submit: {
		kind: "action",
		callers: ["owner", "operator"],
		rateLimit: "SUBMITS_PER_SECOND",
		note: "any user while the batch is empty: the first submitter becomes the owner; the user's quota (QUOTA_ACCESS.reserveBatch) may refuse a new batch",
	},
	status: { kind: "action", callers: ["owner", "operator"], note: "any user while the batch is empty" },
	results: { kind: "action", callers: ["owner", "operator"], note: "any user while the batch is empty" },
	reportResult: {
		kind: "action",
		callers: ["server"],
		note: "plus the batch's secret and a job id of this batch's run, for the worker it was sent to",
	},
	resume: {
		kind: "action",
		callers: ["server"],
		note: "when the server starts: wakes a running batch's workers",
	},
	sweep: { kind: "action", callers: ["schedule"] },
	progress: { kind: "event", callers: ["owner", "operator"] },
	finished: { kind: "event", callers: ["owner", "operator"] },
} as const satisfies AccessTable;

/** Who may do what on a worker: the server (coordinators) sends jobs; operators may look. */
export const WORKER_ACCESS = {
	jobs: { kind: "queue", callers: ["server"], note: "`canPublish`: a client may not enqueue" },
	status: { kind: "action", callers: ["server", "operator"] },
	getJob: { kind: "action", callers: ["server", "operator"] },
	watchdog: { kind: "action", callers: ["schedule"] },
	progress: { kind: "event", callers: ["operator"], note: "`canSubscribe`, checked when the subscription is made" },
	jobFinished: { kind: "event", callers: ["operator"], note: "`canSubscribe`, checked when the subscription is made" },
} as const satisfies AccessTable;

export type CoordinatorJobStatus = "dispatched" | "done" | "failed";

export interface WorkerTally {
	workerId: string;
	assigned: number;
	done: number;
	failed: number;
}

export interface BatchStatus {
	batchId: string;
	state: "empty" | "running" | "done";
	total: number;
	done: number;
	failed: number;
	workers: WorkerTally[];
	/** Epoch milliseconds, or null before `submit`. */
	startedAt: number | null;
	/** Epoch milliseconds, or null until every job has a result. */
	finishedAt: number | null;
}

export interface BatchJobResult {
	jobId: string;
	workerId: string;
	status: CoordinatorJobStatus;
	result?: JobOutput;
	error?: string;
	/** 1, or 2 once the sweep has re-sent the job. */
	dispatches: number;
}

export interface SubmitRequest {
	items: JobSpec[];
	workers?: number;
	sweepIntervalMs?: number;
	stuckAfterMs?: number;
}

// Workers.

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
