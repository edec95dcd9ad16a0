// What a client of the quota family may rely on: the limits that span
// actors (one user's batches, compute and creations across every coordinator,
// worker, counter and room), the refusals they produce, and who may call the
// quota actor. Browser-importable: it imports nothing but the pure access
// vocabulary.
//
// Refusals reach the client from the actor it called (a coordinator's
// `submit`, a counter's or a room's first write) as a `UserError` with metadata
// `{ retryAfterMs }` and change nothing:
// - `quota_exceeded`: too much is in flight at once; it frees itself when a
//   batch finishes, so `retryAfterMs` is only a hint of when to ask again;
// - `rate_limited`: a rate over time was used up; `retryAfterMs` is when
//   enough of it is back.
// Operators are not limited (trusted staff; the bench drives load as one).

import type { AccessTable } from "../access-contract.ts";

/** Batches one user may have running at once, across all coordinators. */
export const MAX_BATCHES_IN_FLIGHT_PER_USER = 4;
/** Jobs one user may have in running batches at once (two full batches of 200). */
export const MAX_JOBS_IN_FLIGHT_PER_USER = 400;
/**
 * Compute one user may ask for at once, in chunks (one chunk is about 50 ms
 * of one CPU: see src/actors/jobs/compute.ts). 4,000 is one maximal batch
 * (200 items × 20 chunks), about 200 CPU-seconds.
 */
export const COMPUTE_CHUNKS_BURST = 4_000;
/** Chunks one user regains per minute: about 60 CPU-seconds, one core's worth at most. */
export const COMPUTE_CHUNKS_PER_MINUTE = 1_200;
/** Counters one user may create (own by first writing them) per hour. */
export const COUNTERS_CREATED_PER_HOUR = 100;
/** Chat rooms one user may create (own by first posting in or naming them) per hour. */
export const ROOMS_CREATED_PER_HOUR = 20;
/**
 * How long a batch reservation lasts unless its coordinator renews it (its
 * sweep does, while the batch runs). A coordinator that dies after reserving
 * and before its batch starts, or after it finished and before it released
 * the reservation, holds the slot at most this long. Three times the longest
 * sweep interval (MAX_SWEEP_INTERVAL_MS), so a running batch never lapses.
 */
export const QUOTA_LEASE_MS = 3 * 60_000;
/** `retryAfterMs` of a `quota_exceeded` refusal: a slot frees when a batch finishes, which no clock predicts. */
export const IN_FLIGHT_RETRY_AFTER_MS = 5_000;

/** What a user creates that counts against a per-hour quota. */
export type CreationKind = "counter" | "room";

/** One user's quota as the quota actor sees it now. */
export interface QuotaUsage {
	userId: string;
	batchesInFlight: number;
	jobsInFlight: number;
	/** Chunks the user may still ask for right now. */
	computeChunksAvailable: number;
	/** Creations in the last hour, per kind. */
	createdLastHour: Record<CreationKind, number>;
}

/**
 * Who may call the quota actor (key `[userId]`). Only the server: a
 * coordinator reserves and releases, a counter or a room charges its
 * creation. Its
 * owner is the key, so no caller names the user it charges.
 */
export const QUOTA_ACCESS = {
	reserveBatch: {
		kind: "action",
		callers: ["server"],
		note: "refuses with `quota_exceeded` or `rate_limited` (metadata `retryAfterMs`); idempotent per batch",
	},
	renewBatch: { kind: "action", callers: ["server"], note: "a running batch's sweep keeps its reservation" },
	releaseBatch: { kind: "action", callers: ["server"], note: "when the batch finishes; idempotent" },
	chargeCreation: {
		kind: "action",
		callers: ["server"],
		note: "refuses with `rate_limited` (metadata `retryAfterMs`); idempotent per created actor",
	},
	usage: { kind: "action", callers: ["server", "operator"] },
} as const satisfies AccessTable;
