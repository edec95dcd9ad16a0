import { expect, test } from "vitest";
import { testClient, uniqueKey } from "../../support.ts";
import { isAsleep, signInAs, sleepActor } from "../helpers.ts";

/**
 * Long enough for two sleeps, a wake and six calls before the timer falls
 * due, even on a loaded machine (about 3 s here).
 */
const TIMER_DELAY_MS = 15_000;

test("the count, owner, remembered request ids and pending timers survive sleep; the timer wakes the actor", async () => {
	const user = await signInAs("sleepy");
	const key = [uniqueKey("sleepy")];
	const counter = testClient().counter.getOrCreate(key, { params: user.params });
	const actorId = await counter.resolve();
	await counter.increment(5, { requestId: "before-sleep" });
	const timer = await counter.incrementLater(2, TIMER_DELAY_MS);

	await sleepActor(actorId);

	// Reading wakes it: everything came back from storage.
	expect(await counter.getCount()).toBe(5);
	expect(await counter.listTimers()).toEqual([timer]);
	expect(await counter.increment(5, { requestId: "before-sleep" })).toBe(5);
	// The owner too: another user is still refused.
	const other = await signInAs("other");
	await expect(testClient().counter.getOrCreate(key, { params: other.params }).getCount()).rejects.toMatchObject({
		code: "forbidden",
	});

	await sleepActor(actorId);
	expect(Date.now(), "the actor slept before its timer fell due").toBeLessThan(timer.runAt);
	// Nobody calls it now: the schedule wakes it (the engine reports it awake) ...
	await expect.poll(() => isAsleep(actorId), { timeout: TIMER_DELAY_MS + 20_000, interval: 250 }).toBe(false);
	// ... and the increment lands.
	await expect.poll(() => counter.getCount()).toBe(7);
	expect(await counter.listTimers()).toEqual([]);
});
