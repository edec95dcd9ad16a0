import { expect, test } from "vitest";
import { testClient, uniqueKey } from "../../support.ts";
import { isAsleep, sleepActor } from "../helpers.ts";

test("the count, remembered request ids and pending timers survive sleep; the timer wakes the actor", async () => {
	const counter = testClient().counter.getOrCreate([uniqueKey("sleepy")]);
	const actorId = await counter.resolve();
	await counter.increment(5, { requestId: "before-sleep" });
	const timer = await counter.incrementLater(2, 6_000);

	await sleepActor(actorId);

	// Reading wakes it: everything came back from storage.
	expect(await counter.getCount()).toBe(5);
	expect(await counter.listTimers()).toEqual([timer]);
	expect(await counter.increment(5, { requestId: "before-sleep" })).toBe(5);

	await sleepActor(actorId);
	// Nobody calls it now: the schedule wakes it (the engine reports it awake) ...
	await expect.poll(() => isAsleep(actorId), { timeout: 20_000, interval: 250 }).toBe(false);
	// ... and the increment lands.
	await expect.poll(() => counter.getCount()).toBe(7);
	expect(await counter.listTimers()).toEqual([]);
});
