// One user's quota book: the pure bookkeeping behind the quota actor
// (./quota.ts), with the time passed in so tests can move it. Every function
// either changes the book and returns null, or returns a refusal and leaves
// the book exactly as it was.

import {
	COMPUTE_CHUNKS_BURST,
	COMPUTE_CHUNKS_PER_MINUTE,
	COUNTERS_CREATED_PER_HOUR,
	type CreationKind,
	IN_FLIGHT_RETRY_AFTER_MS,
	MAX_BATCHES_IN_FLIGHT_PER_USER,
	MAX_JOBS_IN_FLIGHT_PER_USER,
	QUOTA_LEASE_MS,
	ROOMS_CREATED_PER_HOUR,
} from "./contract.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const CREATIONS_PER_HOUR: Record<CreationKind, number> = {
	counter: COUNTERS_CREATED_PER_HOUR,
	room: ROOMS_CREATED_PER_HOUR,
};

export interface QuotaBook {
	/** Reserved batches by batch id: their job count and when their lease was last renewed (epoch ms). */
	batches: Record<string, { jobs: number; renewedAt: number }>;
	/** A token bucket of compute chunks: how many were left at `at` (epoch ms). */
	compute: { chunks: number; at: number };
	/** Per kind, `[createdKey, epochMs]` of the creations in the last hour, oldest first. */
	created: Record<CreationKind, Array<[string, number]>>;
}

export interface Refusal {
	code: "quota_exceeded" | "rate_limited";
	message: string;
	retryAfterMs: number;
}

export interface BatchReservation {
	batchId: string;
	jobs: number;
	/** The batch's estimated compute, in chunks. */
	chunks: number;
}

export function emptyBook(now: number): QuotaBook {
	return { batches: {}, compute: { chunks: COMPUTE_CHUNKS_BURST, at: now }, created: { counter: [], room: [] } };
}

/** The chunks in the bucket at `now`, refilled since it was last touched. */
export function computeAvailable(book: QuotaBook, now: number): number {
	const refilled = ((now - book.compute.at) / MINUTE_MS) * COMPUTE_CHUNKS_PER_MINUTE;
	return Math.min(COMPUTE_CHUNKS_BURST, book.compute.chunks + Math.max(0, refilled));
}

/** Forgets reservations whose lease lapsed: their coordinator stopped renewing them. */
function dropLapsed(book: QuotaBook, now: number): void {
	for (const [batchId, held] of Object.entries(book.batches)) {
		if (held.renewedAt + QUOTA_LEASE_MS <= now) delete book.batches[batchId];
	}
}

/**
 * Forgets creations older than an hour (the oldest come first). In place:
 * with the list replaced by a filtered copy instead, 10 concurrent
 * `chargeCreation` calls on one quota actor failed with rivetkit's
 * `core.internal_error` (2026-12-06, rivetkit 2.3.19, not traced further);
 * splicing the same list did not.
 */
function dropOldCreations(book: QuotaBook, kind: CreationKind, now: number): void {
	const recent = book.created[kind];
	let old = 0;
	while (old < recent.length && (recent[old]?.[1] ?? now) + HOUR_MS <= now) old++;
	if (old > 0) recent.splice(0, old);
}

/**
 * Reserves a batch: one in-flight slot, its jobs, and its compute. The same
 * batch id again (a retried submit) renews the reservation and charges
 * nothing more.
 */
export function reserveBatch(book: QuotaBook, request: BatchReservation, now: number): Refusal | null {
	dropLapsed(book, now);
	const held = book.batches[request.batchId];
	if (held) {
		held.renewedAt = now;
		return null;
	}
	const reserved = Object.values(book.batches);
	if (reserved.length >= MAX_BATCHES_IN_FLIGHT_PER_USER) {
		return {
			code: "quota_exceeded",
			message: `at most ${MAX_BATCHES_IN_FLIGHT_PER_USER} batches may run at once per user; wait for one to finish`,
			retryAfterMs: IN_FLIGHT_RETRY_AFTER_MS,
		};
	}
	const jobsInFlight = reserved.reduce((n, b) => n + b.jobs, 0);
	if (jobsInFlight + request.jobs > MAX_JOBS_IN_FLIGHT_PER_USER) {
		return {
			code: "quota_exceeded",
			message: `at most ${MAX_JOBS_IN_FLIGHT_PER_USER} jobs may be in flight at once per user (${jobsInFlight} are); wait for a batch to finish`,
			retryAfterMs: IN_FLIGHT_RETRY_AFTER_MS,
		};
	}
	const wanted = Math.min(COMPUTE_CHUNKS_BURST, request.chunks);
	const available = computeAvailable(book, now);
	if (wanted > available) {
		const retryAfterMs = Math.ceil(((wanted - available) / COMPUTE_CHUNKS_PER_MINUTE) * MINUTE_MS);
		return {
			code: "rate_limited",
			message: `this batch needs ${wanted} chunks of compute and ${Math.floor(available)} are left; try again in ${retryAfterMs} ms`,
			retryAfterMs,
		};
	}
	book.compute = { chunks: available - wanted, at: now };
	book.batches[request.batchId] = { jobs: request.jobs, renewedAt: now };
	return null;
}

/** Keeps a running batch's reservation (re-adding it if its lease lapsed). Never refuses: the batch already runs. */
export function renewBatch(book: QuotaBook, batchId: string, jobs: number, now: number): void {
	dropLapsed(book, now);
	book.batches[batchId] = { jobs: book.batches[batchId]?.jobs ?? jobs, renewedAt: now };
}

/** Frees a batch's slot and jobs (its compute stays spent). Idempotent. */
export function releaseBatch(book: QuotaBook, batchId: string): void {
	delete book.batches[batchId];
}

/** Charges one creation of `kind`; the same `key` again within the hour charges nothing. */
export function chargeCreation(book: QuotaBook, kind: CreationKind, key: string, now: number): Refusal | null {
	dropOldCreations(book, kind, now);
	const recent = book.created[kind];
	if (recent.some(([seen]) => seen === key)) return null;
	const limit = CREATIONS_PER_HOUR[kind];
	const oldest = recent[0];
	if (recent.length >= limit && oldest !== undefined) {
		const retryAfterMs = Math.max(1, oldest[1] + HOUR_MS - now);
		return {
			code: "rate_limited",
			message: `at most ${limit} new ${kind}s per user per hour; try again in ${retryAfterMs} ms`,
			retryAfterMs,
		};
	}
	recent.push([key, now]);
	return null;
}

export function usageOf(
	book: QuotaBook,
	now: number,
): {
	batchesInFlight: number;
	jobsInFlight: number;
	computeChunksAvailable: number;
	createdLastHour: Record<CreationKind, number>;
} {
	const live = Object.values(book.batches).filter((b) => b.renewedAt + QUOTA_LEASE_MS > now);
	const count = (kind: CreationKind) => book.created[kind].filter(([, at]) => at + HOUR_MS > now).length;
	return {
		batchesInFlight: live.length,
		jobsInFlight: live.reduce((n, b) => n + b.jobs, 0),
		computeChunksAvailable: Math.floor(computeAvailable(book, now)),
		createdLastHour: { counter: count("counter"), room: count("room") },
	};
}
