// Quotas that span actors (src/actors/quota): a user's batches across
// coordinators and the counters and rooms a user creates are bounded by one quota
// actor per user, which only the server may call. Each refusal reaches the
// client from the actor it called, with a stable code and `retryAfterMs`,
// and changes nothing there.

import { describe, expect, test } from "vitest";
import type { BatchStatus, SubmitRequest } from "../../../src/actors/jobs/contract.ts";
import {
	COUNTERS_CREATED_PER_HOUR,
	type CreationKind,
	IN_FLIGHT_RETRY_AFTER_MS,
	MAX_BATCHES_IN_FLIGHT_PER_USER,
	ROOMS_CREATED_PER_HOUR,
} from "../../../src/actors/quota/contract.ts";
import { testClient, uniqueKey } from "../../support.ts";
import { serverParams, signInAs, signInOperator } from "../helpers.ts";

const SMALL: SubmitRequest = { items: [{ kind: "primes", input: { limit: 50 } }], workers: 1 };

async function quotaAsServer(userId: string) {
	return testClient().quota.getOrCreate([userId], { params: await serverParams() });
}

/**
 * Charges creations of `kind` to a user's quota until `total` are counted this
 * hour, as that user's other counters or rooms would. Ten at a time: one by
 * one takes long on a loaded machine, all at once overloads one actor's
 * request handling.
 */
async function useUpCreations(userId: string, kind: CreationKind, from: number, total: number): Promise<void> {
	const quota = await quotaAsServer(userId);
	for (let i = from; i < total; i += 10) {
		const keys = Array.from({ length: Math.min(10, total - i) }, (_, j) => `elsewhere-${i + j}`);
		await Promise.all(keys.map((key) => quota.chargeCreation({ kind, key })));
	}
}

function retryAfterOf(refusal: unknown): number {
	return (refusal as { metadata?: { retryAfterMs?: number } }).metadata?.retryAfterMs ?? 0;
}

describe("quota", () => {
	test("a batch over the user's batches in flight is refused with quota_exceeded and stays empty; a finished batch frees its slot", async () => {
		const user = await signInAs("busy");
		const quota = await quotaAsServer(user.userId);
		// Other batches of this user hold every slot (reserved as their coordinators would).
		for (let i = 0; i < MAX_BATCHES_IN_FLIGHT_PER_USER; i++) {
			await quota.reserveBatch({ batchId: `held-${i}`, jobs: 1, chunks: 1 });
		}
		const coordinator = testClient().coordinator.getOrCreate([uniqueKey("over")], { params: user.params });
		await expect(coordinator.submit(SMALL)).rejects.toMatchObject({
			group: "user",
			code: "quota_exceeded",
			metadata: { retryAfterMs: IN_FLIGHT_RETRY_AFTER_MS },
		});
		expect(await coordinator.status()).toMatchObject({ state: "empty", total: 0 });
		expect(await coordinator.results()).toEqual([]);

		await quota.releaseBatch("held-0");
		await coordinator.submit(SMALL);
		expect(await quota.usage()).toMatchObject({ batchesInFlight: MAX_BATCHES_IN_FLIGHT_PER_USER });
		await expect.poll(() => coordinator.status().then((s: BatchStatus) => s.state), { timeout: 20_000 }).toBe("done");
		// The finished batch gave its slot back.
		await expect.poll(() => quota.usage().then((u) => u.batchesInFlight)).toBe(MAX_BATCHES_IN_FLIGHT_PER_USER - 1);
	});

	test("operators are not limited by a quota", async () => {
		const operator = await signInOperator("quota-ops");
		const quota = await quotaAsServer(operator.userId);
		for (let i = 0; i < MAX_BATCHES_IN_FLIGHT_PER_USER; i++) {
			await quota.reserveBatch({ batchId: `held-${i}`, jobs: 1, chunks: 1 });
		}
		const coordinator = testClient().coordinator.getOrCreate([uniqueKey("ops")], { params: operator.params });
		await coordinator.submit(SMALL);
		await expect.poll(() => coordinator.status().then((s: BatchStatus) => s.state), { timeout: 20_000 }).toBe("done");
	});

	test("a new counter over the user's creations per hour is refused with rate_limited and stays unowned; owned counters keep working", async () => {
		const client = testClient();
		const user = await signInAs("creator");
		const mine = client.counter.getOrCreate([uniqueKey("mine")], { params: user.params });
		expect(await mine.increment(1)).toBe(1);
		const quota = await quotaAsServer(user.userId);
		// The first counter counted; other counters of this user take the rest of the hour's quota.
		expect(await quota.usage()).toMatchObject({ createdLastHour: { counter: 1 } });
		await useUpCreations(user.userId, "counter", 1, COUNTERS_CREATED_PER_HOUR);
		expect(await quota.usage()).toMatchObject({ createdLastHour: { counter: COUNTERS_CREATED_PER_HOUR } });
		const fresh = client.counter.getOrCreate([uniqueKey("fresh")], { params: user.params });
		const refusal = await fresh.increment(1).catch((e: unknown) => e);
		expect(refusal).toMatchObject({ group: "user", code: "rate_limited" });
		const retryAfterMs = retryAfterOf(refusal);
		expect(retryAfterMs).toBeGreaterThan(0);
		expect(retryAfterMs).toBeLessThanOrEqual(3_600_000);
		await expect(fresh.incrementLater(1, 60_000)).rejects.toMatchObject({ code: "rate_limited" });
		// Nothing changed: still unowned, so another user may claim it.
		expect(await fresh.getCount()).toBe(0);
		expect(await fresh.listTimers()).toEqual([]);
		const other = await signInAs("someone-else");
		expect(await client.counter.getOrCreate([uniqueKey("fresh")], { params: other.params }).increment(1)).toBe(1);
		// A counter the user already owns is no creation.
		expect(await mine.increment(1)).toBe(2);
	});

	test("two users racing to create one counter: one owns it, the other is refused, and one creation is charged", async () => {
		const client = testClient();
		const key = [uniqueKey("race")];
		const [a, b] = await Promise.all([signInAs("racer-a"), signInAs("racer-b")]);
		const results = await Promise.allSettled([
			client.counter.getOrCreate(key, { params: a.params }).increment(1),
			client.counter.getOrCreate(key, { params: b.params }).increment(1),
		]);
		const won = results.filter((r) => r.status === "fulfilled");
		expect(won).toHaveLength(1);
		expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "forbidden" } });
		const charged = await Promise.all(
			[a, b].map(async (u) => (await (await quotaAsServer(u.userId)).usage()).createdLastHour.counter),
		);
		expect(charged.sort()).toEqual([0, 1]);
	});

	test("a new room over the user's creations per hour is refused with rate_limited and unchanged; owned rooms keep working", async () => {
		const client = testClient();
		const user = await signInAs("room-creator");
		const mine = client.chatRoom.getOrCreate([uniqueKey("mine")], { params: user.params });
		await mine.postMessage("my first room");
		const quota = await quotaAsServer(user.userId);
		// The first room counted; other rooms of this user take the rest of the hour's quota.
		expect(await quota.usage()).toMatchObject({ createdLastHour: { room: 1, counter: 0 } });
		await useUpCreations(user.userId, "room", 1, ROOMS_CREATED_PER_HOUR);
		expect(await quota.usage()).toMatchObject({ createdLastHour: { room: ROOMS_CREATED_PER_HOUR } });

		// The 21st room: its first post and its first rename are refused.
		const freshKey = uniqueKey("fresh-room");
		const fresh = client.chatRoom.getOrCreate([freshKey], { params: user.params });
		const refusal = await fresh.postMessage("one room too many").catch((e: unknown) => e);
		expect(refusal).toMatchObject({ group: "user", code: "rate_limited" });
		expect(retryAfterOf(refusal)).toBeGreaterThan(0);
		expect(retryAfterOf(refusal)).toBeLessThanOrEqual(3_600_000);
		await expect(fresh.setTitle("Mine now")).rejects.toMatchObject({ group: "user", code: "rate_limited" });
		// Nothing changed: no message, no owner, the title it was created with.
		expect(await fresh.info()).toMatchObject({ title: freshKey, owner: null, messageCount: 0 });
		expect(await fresh.history({ limit: 10 })).toEqual({ messages: [], hasMore: false });
		expect(await quota.usage()).toMatchObject({ createdLastHour: { room: ROOMS_CREATED_PER_HOUR } });

		// Still unowned, so another user may claim it.
		const other = await signInAs("room-someone-else");
		const theirs = client.chatRoom.getOrCreate([freshKey], { params: other.params });
		await theirs.postMessage("claimed");
		expect(await theirs.info()).toMatchObject({ owner: other.userId, messageCount: 1 });
		// A room the user already owns is no creation.
		await mine.postMessage("still here");
		expect(await mine.info()).toMatchObject({ owner: user.userId, messageCount: 2 });
	});

	test("two users racing to post first in a new room: both posts land, one owns the room, one creation is charged", async () => {
		const client = testClient();
		const key = [uniqueKey("room-race")];
		const [a, b] = await Promise.all([signInAs("room-racer-a"), signInAs("room-racer-b")]);
		await Promise.all([
			client.chatRoom.getOrCreate(key, { params: a.params }).postMessage("from a"),
			client.chatRoom.getOrCreate(key, { params: b.params }).postMessage("from b"),
		]);
		const info = await client.chatRoom.getOrCreate(key, { params: a.params }).info();
		expect(info.messageCount).toBe(2);
		expect([a.userId, b.userId]).toContain(info.owner);
		const [chargedA, chargedB] = await Promise.all(
			[a, b].map(async (u) => (await (await quotaAsServer(u.userId)).usage()).createdLastHour.room),
		);
		// One creation, charged to the owner.
		expect(info.owner === a.userId ? [chargedA, chargedB] : [chargedB, chargedA]).toEqual([1, 0]);
	});

	test("an operator's first post claims a room without a quota charge", async () => {
		const client = testClient();
		const operator = await signInOperator("room-ops");
		const room = client.chatRoom.getOrCreate([uniqueKey("ops-room")], { params: operator.params });
		await room.postMessage("staff notice");
		expect(await room.info()).toMatchObject({ owner: operator.userId, messageCount: 1 });
		expect(await (await quotaAsServer(operator.userId)).usage()).toMatchObject({ createdLastHour: { room: 0 } });
	});
});
