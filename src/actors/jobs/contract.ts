// What a client of the jobs family (coordinator and worker) may rely on: the
// limits they enforce and the shapes of their events and action results.
// Browser-importable (the web app's Jobs panel imports it): its only imports
// are types from `./jobs.ts`, which the compiler erases.

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
/** How often the sweep looks for stuck jobs, by default and within bounds. */
export const DEFAULT_SWEEP_INTERVAL_MS = 5_000;
export const MIN_SWEEP_INTERVAL_MS = 200;
export const MAX_SWEEP_INTERVAL_MS = 60_000;
/** How long a job may be in flight before the sweep re-sends it, by default and within bounds. */
export const DEFAULT_STUCK_AFTER_MS = 60_000;
export const MIN_STUCK_AFTER_MS = 200;
export const MAX_STUCK_AFTER_MS = 60 * 60_000;

export const BATCH_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

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
