// The quota book (src/actors/quota/book.ts) and the compute pool's lanes
// (src/actors/jobs/compute-pool.ts) on their own: pure bookkeeping, with the
// time passed in, so leases and windows that last minutes or an hour are
// checked without waiting for them.

import { describe, expect, test } from "vitest";
import { RoundRobinLanes } from "../../../src/actors/jobs/compute-pool.ts";
import {
	chargeCreation,
	emptyBook,
	releaseBatch,
	renewBatch,
	reserveBatch,
	usageOf,
} from "../../../src/actors/quota/book.ts";
import {
	COMPUTE_CHUNKS_BURST,
	COMPUTE_CHUNKS_PER_MINUTE,
	COUNTERS_CREATED_PER_HOUR,
	IN_FLIGHT_RETRY_AFTER_MS,
	MAX_BATCHES_IN_FLIGHT_PER_USER,
	MAX_JOBS_IN_FLIGHT_PER_USER,
	QUOTA_LEASE_MS,
} from "../../../src/actors/quota/contract.ts";

const T0 = 1_000_000;

describe("quota book", () => {
	test("batches in flight: the one over the limit is refused with quota_exceeded and changes nothing; a release frees a slot", () => {
		const book = emptyBook(T0);
		for (let i = 0; i < MAX_BATCHES_IN_FLIGHT_PER_USER; i++) {
			expect(reserveBatch(book, { batchId: `b${i}`, jobs: 1, chunks: 1 }, T0)).toBeNull();
		}
		const before = structuredClone(book);
		expect(reserveBatch(book, { batchId: "over", jobs: 1, chunks: 1 }, T0)).toMatchObject({
			code: "quota_exceeded",
			retryAfterMs: IN_FLIGHT_RETRY_AFTER_MS,
		});
		expect(book).toEqual(before);
		// The same batch again (a retried submit) is no new reservation.
		expect(reserveBatch(book, { batchId: "b0", jobs: 1, chunks: 1 }, T0)).toBeNull();
		releaseBatch(book, "b0");
		releaseBatch(book, "b0");
		expect(reserveBatch(book, { batchId: "over", jobs: 1, chunks: 1 }, T0)).toBeNull();
		expect(usageOf(book, T0)).toMatchObject({ batchesInFlight: MAX_BATCHES_IN_FLIGHT_PER_USER, jobsInFlight: 4 });
	});

	test("jobs in flight are bounded across batches", () => {
		const book = emptyBook(T0);
		expect(reserveBatch(book, { batchId: "a", jobs: MAX_JOBS_IN_FLIGHT_PER_USER - 1, chunks: 1 }, T0)).toBeNull();
		expect(reserveBatch(book, { batchId: "b", jobs: 2, chunks: 1 }, T0)).toMatchObject({ code: "quota_exceeded" });
		expect(reserveBatch(book, { batchId: "b", jobs: 1, chunks: 1 }, T0)).toBeNull();
	});

	test("compute: one maximal batch empties the bucket; the next waits for the refill the refusal names", () => {
		const book = emptyBook(T0);
		expect(reserveBatch(book, { batchId: "big", jobs: 200, chunks: COMPUTE_CHUNKS_BURST }, T0)).toBeNull();
		const refusal = reserveBatch(book, { batchId: "next", jobs: 1, chunks: 600 }, T0);
		expect(refusal).toMatchObject({ code: "rate_limited", retryAfterMs: (600 / COMPUTE_CHUNKS_PER_MINUTE) * 60_000 });
		const retryAt = T0 + (refusal?.retryAfterMs ?? 0);
		expect(reserveBatch(book, { batchId: "next", jobs: 1, chunks: 600 }, retryAt - 1_000)).toMatchObject({
			code: "rate_limited",
		});
		expect(reserveBatch(book, { batchId: "next", jobs: 1, chunks: 600 }, retryAt)).toBeNull();
	});

	test("a reservation nobody renews lapses after QUOTA_LEASE_MS; a renewed one stays", () => {
		const book = emptyBook(T0);
		for (let i = 0; i < MAX_BATCHES_IN_FLIGHT_PER_USER; i++) {
			reserveBatch(book, { batchId: `b${i}`, jobs: 1, chunks: 1 }, T0);
		}
		renewBatch(book, "b0", 1, T0 + QUOTA_LEASE_MS - 1);
		const later = T0 + QUOTA_LEASE_MS;
		expect(usageOf(book, later)).toMatchObject({ batchesInFlight: 1 });
		expect(reserveBatch(book, { batchId: "new", jobs: 1, chunks: 1 }, later)).toBeNull();
		expect(Object.keys(book.batches).sort()).toEqual(["b0", "new"]);
	});

	test("creations per hour: idempotent per key; the one over the limit waits for the oldest to age out", () => {
		const book = emptyBook(T0);
		for (let i = 0; i < COUNTERS_CREATED_PER_HOUR; i++) {
			expect(chargeCreation(book, "counter", `c${i}`, T0 + i)).toBeNull();
		}
		expect(chargeCreation(book, "counter", "c0", T0 + 500)).toBeNull();
		const before = structuredClone(book);
		expect(chargeCreation(book, "counter", "over", T0 + 500)).toEqual({
			code: "rate_limited",
			message: expect.any(String),
			retryAfterMs: 3_600_000 - 500,
		});
		expect(book).toEqual(before);
		// Rooms have their own count.
		expect(chargeCreation(book, "room", "r0", T0 + 500)).toBeNull();
		expect(chargeCreation(book, "counter", "over", T0 + 3_600_000)).toBeNull();
	});
});

describe("compute pool lanes", () => {
	test("lanes take turns: a newcomer behind a deep backlog is served after one item of each other lane", () => {
		const lanes = new RoundRobinLanes<string>();
		for (let i = 0; i < 100; i++) lanes.push("abuser", `a${i}`);
		lanes.push("b", "b0");
		lanes.push("b", "b1");
		expect([lanes.shift(), lanes.shift()]).toEqual(["a0", "b0"]);
		lanes.push("c", "c0");
		expect([lanes.shift(), lanes.shift(), lanes.shift(), lanes.shift()]).toEqual(["a1", "b1", "c0", "a2"]);
		expect(lanes.size).toBe(97);
	});
});
