import { describe, expect, test } from "vitest";
import { gatewayAction, putActor, testClient, uniqueKey } from "../../support.ts";
import { rawAction, signInAs, signInOperator } from "../helpers.ts";

/** A counter handle for a newly signed-in user. */
async function ownCounter(prefix: string) {
	const user = await signInAs("counter-user");
	const client = testClient();
	const key = [uniqueKey(prefix)];
	return { user, client, key, counter: client.counter.getOrCreate(key, { params: user.params }) };
}

describe("counter through the engine gateway (raw HTTP)", () => {
	test("PUT /actors then POST /gateway/{id}/action/increment with x-rivet-conn-params returns the count", async () => {
		const { params } = await signInAs();
		const id = await putActor("counter", uniqueKey("gw"));
		expect(await rawAction(id, "increment", [5], { params })).toEqual({ status: 200, body: { output: 5 } });
		expect(await rawAction(id, "increment", [2], { params })).toEqual({ status: 200, body: { output: 7 } });
		expect(await rawAction(id, "getCount", [], { params })).toEqual({ status: 200, body: { output: 7 } });
		// Without a token nothing is served.
		expect((await gatewayAction(id, "getCount", [])).body).toMatchObject({ group: "user", code: "unauthenticated" });
	});

	test("bad input is rejected with a stable code and changes nothing", async () => {
		const { params } = await signInAs();
		const id = await putActor("counter", uniqueKey("bad"));
		await rawAction(id, "increment", [3], { params });
		for (const args of [[0.5], ["1"], [{ a: 1 }], [], [null], [10_000], [-1]]) {
			const res = await rawAction(id, "increment", args, { params });
			// rivetkit 2.3.19 answers UserErrors over raw HTTP with status 500;
			// the body's group/code are the contract.
			expect(res.body).toMatchObject({ group: "user", code: "invalid_input" });
		}
		expect((await rawAction(id, "getCount", [], { params })).body).toEqual({ output: 3 });
	});
});

describe("counter through the rivetkit client", () => {
	test("stateless calls", async () => {
		const { counter } = await ownCounter("stateless");
		expect(await counter.increment(1)).toBe(1);
		expect(await counter.increment(41)).toBe(42);
		expect(await counter.getCount()).toBe(42);
	});

	test("the owner's connection receives newCount events, also for writes made elsewhere", async () => {
		const { user, client, key, counter } = await ownCounter("events");
		const conn = client.counter.getOrCreate(key, { params: user.params }).connect();
		const seen: number[] = [];
		conn.on("newCount", (n) => seen.push(n));
		await conn.increment(2);
		// A write by another handle of the same user reaches this connection too.
		await counter.increment(3);
		await expect.poll(() => seen).toEqual([2, 5]);
		await conn.dispose();
	});

	test("a burst of concurrent writes ends with the final count on a reader's connection, in ascending order", async () => {
		const { user, client, key, counter } = await ownCounter("burst");
		const conn = client.counter.getOrCreate(key, { params: user.params }).connect();
		const seen: number[] = [];
		conn.on("newCount", (n) => seen.push(n));
		await conn.getCount();
		// Within the write burst (COUNTER_WRITE_BURST): none is rate limited.
		const writes = await Promise.all(Array.from({ length: 30 }, () => counter.increment(1)));
		expect(writes.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
		// Events are coalesced (COUNT_EVENT_INTERVAL_MS), but the latest count always arrives.
		await expect.poll(() => seen.at(-1)).toBe(30);
		expect(seen).toEqual(seen.toSorted((a, b) => a - b));
		await conn.dispose();
	});

	test("a bad argument throws a UserError with code invalid_input", async () => {
		const { counter } = await ownCounter("err");
		await expect(counter.increment(1.5)).rejects.toMatchObject({ group: "user", code: "invalid_input" });
		expect(await counter.getCount()).toBe(0);
	});

	test("a repeated requestId applies once and returns the first result", async () => {
		const { counter } = await ownCounter("idem");
		expect(await counter.increment(5, { requestId: "r1" })).toBe(5);
		expect(await counter.increment(5, { requestId: "r1" })).toBe(5);
		expect(await counter.increment(1, { requestId: "r2" })).toBe(6);
		expect(await counter.getCount()).toBe(6);
	});

	test("the first writer owns the counter: another user can neither read nor write it", async () => {
		const { client, key, counter } = await ownCounter("owned");
		const other = await signInAs("other");
		const theirs = client.counter.getOrCreate(key, { params: other.params });
		// Before anyone writes, anyone signed in reads 0.
		expect(await theirs.getCount()).toBe(0);
		await counter.increment(4);
		await expect(theirs.increment(1)).rejects.toMatchObject({ group: "user", code: "forbidden" });
		await expect(theirs.getCount()).rejects.toMatchObject({ code: "forbidden" });
		expect(await counter.getCount()).toBe(4);
	});

	test("an operator who writes a new counter owns it: a user cannot claim it afterwards", async () => {
		const client = testClient();
		const key = [uniqueKey("operator-owned")];
		const operator = await signInOperator();
		await client.counter.getOrCreate(key, { params: operator.params }).increment(3);
		const user = client.counter.getOrCreate(key, { params: (await signInAs("claimer")).params });
		await expect(user.increment(1)).rejects.toMatchObject({ code: "forbidden" });
		await expect(user.getCount()).rejects.toMatchObject({ code: "forbidden" });
		expect(await client.counter.getOrCreate(key, { params: operator.params }).getCount()).toBe(3);
	});
});

describe("counter schedules", () => {
	test("incrementLater lands on schedule and the timer is listed until then", async () => {
		const { counter } = await ownCounter("later");
		// Long enough for the two reads below to come first, even on a loaded machine.
		const timer = await counter.incrementLater(4, 5_000);
		expect(timer).toMatchObject({ kind: "increment", amount: 4 });
		expect(Object.keys(timer).sort()).toEqual(["amount", "id", "kind", "runAt"]);
		expect(await counter.listTimers()).toEqual([timer]);
		expect(await counter.getCount()).toBe(0);
		await expect.poll(() => counter.getCount(), { timeout: 20_000, interval: 250 }).toBe(4);
		expect(await counter.listTimers()).toEqual([]);
	});

	test("resetAt sets the count to zero at the given time", async () => {
		const { counter } = await ownCounter("reset");
		await counter.increment(9);
		await counter.resetAt(Date.now() + 1_000);
		await expect.poll(() => counter.getCount(), { timeout: 15_000, interval: 250 }).toBe(0);
	});

	test("the schedule callback refuses clients, even with the timer id every action shows", async () => {
		const { counter } = await ownCounter("guard");
		const timer = await counter.incrementLater(1, 60_000);
		await expect(counter.fireTimer(timer.id, "guess")).rejects.toMatchObject({ code: "forbidden" });
		await expect(counter.fireTimer(timer.id, undefined)).rejects.toMatchObject({ code: "forbidden" });
		await expect(counter.fireTimer("guess", "guess")).rejects.toMatchObject({ code: "forbidden" });
		expect(await counter.getCount()).toBe(0);
		expect(await counter.listTimers()).toEqual([timer]);
	});

	test("bad schedule arguments are rejected, including times in the past", async () => {
		const { counter } = await ownCounter("badsched");
		await expect(counter.incrementLater(1, -5)).rejects.toMatchObject({ code: "invalid_input" });
		await expect(counter.resetAt(Date.now() + 365 * 24 * 3_600_000)).rejects.toMatchObject({
			code: "timestamp_out_of_range",
		});
		await expect(counter.resetAt(Date.now() - 60_000)).rejects.toMatchObject({ code: "timestamp_out_of_range" });
		expect(await counter.listTimers()).toEqual([]);
	});
});
