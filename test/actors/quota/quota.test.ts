// Quotas that span actors (src/actors/quota): a user's batches across
// coordinators and the counters a user creates are bounded by one quota
// actor per user, which only the server may call. Each refusal reaches the
// client from the actor it called, with a stable code and `retryAfterMs`,
// and changes nothing there.

import { describe, expect, test } from "vitest";
import type { BatchStatus, SubmitRequest } from "../../../src/actors/jobs/contract.ts";
import {
	COUNTERS_CREATED_PER_HOUR,
	IN_FLIGHT_RETRY_AFTER_MS,
	MAX_BATCHES_IN_FLIGHT_PER_USER,
} from "../../../src/actors/quota/contract.ts";
import { testClient, uniqueKey } from "../../support.ts";
import { serverParams, signInAs, signInOperator } from "../helpers.ts";

const SMALL: SubmitRequest = { items: [{ kind: "primes", input: { limit: 50 } }], workers: 1 };

async function quotaAsServer(userId: string) {
	return testClient().quota.getOrCreate([userId], { params: await serverParams() });
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
		// Ten at a time: one by one takes long on a loaded machine, all at once
		// overloads one actor's request handling.
		for (let i = 1; i < COUNTERS_CREATED_PER_HOUR; i += 10) {
			const keys = Array.from({ length: Math.min(10, COUNTERS_CREATED_PER_HOUR - i) }, (_, j) => `elsewhere-${i + j}`);
			await Promise.all(keys.map((key) => quota.chargeCreation({ kind: "counter", key })));
		}
		expect(await quota.usage()).toMatchObject({ createdLastHour: { counter: COUNTERS_CREATED_PER_HOUR } });
		const fresh = client.counter.getOrCreate([uniqueKey("fresh")], { params: user.params });
		const refusal = await fresh.increment(1).catch((e: unknown) => e);
		expect(refusal).toMatchObject({ group: "user", code: "rate_limited" });
		const retryAfterMs = (refusal as { metadata?: { retryAfterMs?: number } }).metadata?.retryAfterMs ?? 0;
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
});
