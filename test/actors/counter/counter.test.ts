import { describe, expect, test } from "vitest";
import { gatewayAction, putActor, testClient, uniqueKey } from "../../support.ts";

describe("counter through the engine gateway (raw HTTP)", () => {
	test("PUT /actors then POST /gateway/{id}/action/increment returns the count", async () => {
		const id = await putActor("counter", uniqueKey("gw"));
		expect(await gatewayAction(id, "increment", [5])).toEqual({ status: 200, body: { output: 5 } });
		expect(await gatewayAction(id, "increment", [2])).toEqual({ status: 200, body: { output: 7 } });
		expect(await gatewayAction(id, "getCount", [])).toEqual({ status: 200, body: { output: 7 } });
	});

	test("bad input is rejected with a stable code and changes nothing", async () => {
		const id = await putActor("counter", uniqueKey("bad"));
		await gatewayAction(id, "increment", [3]);
		for (const args of [[0.5], ["1"], [{ a: 1 }], [], [null], [10_000], [-1]]) {
			const res = await gatewayAction(id, "increment", args);
			// rivetkit 2.3.19 answers UserErrors over raw HTTP with status 500;
			// the body's group/code are the contract.
			expect(res.body).toMatchObject({ group: "user", code: "invalid_input" });
		}
		expect((await gatewayAction(id, "getCount", [])).body).toEqual({ output: 3 });
	});
});

describe("counter through the rivetkit client", () => {
	test("stateless calls", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("stateless")]);
		expect(await counter.increment(1)).toBe(1);
		expect(await counter.increment(41)).toBe(42);
		expect(await counter.getCount()).toBe(42);
	});

	test("a connection receives newCount events", async () => {
		const client = testClient();
		const key = [uniqueKey("events")];
		const conn = client.counter.getOrCreate(key).connect();
		const seen: number[] = [];
		conn.on("newCount", (n) => seen.push(n));
		await conn.increment(2);
		// A write by another client reaches this connection too.
		await client.counter.getOrCreate(key).increment(3);
		await expect.poll(() => seen).toEqual([2, 5]);
		await conn.dispose();
	});

	test("a bad argument throws a UserError with code invalid_input", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("err")]);
		await expect(counter.increment(1.5)).rejects.toMatchObject({ group: "user", code: "invalid_input" });
		expect(await counter.getCount()).toBe(0);
	});

	test("a repeated requestId applies once and returns the first result", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("idem")]);
		expect(await counter.increment(5, { requestId: "r1" })).toBe(5);
		expect(await counter.increment(5, { requestId: "r1" })).toBe(5);
		expect(await counter.increment(1, { requestId: "r2" })).toBe(6);
		expect(await counter.getCount()).toBe(6);
	});
});

describe("counter schedules", () => {
	test("incrementLater lands on schedule and the timer is listed until then", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("later")]);
		const timer = await counter.incrementLater(4, 1_500);
		expect(timer).toMatchObject({ kind: "increment", amount: 4 });
		expect(await counter.listTimers()).toEqual([timer]);
		expect(await counter.getCount()).toBe(0);
		await expect.poll(() => counter.getCount(), { timeout: 15_000, interval: 250 }).toBe(4);
		expect(await counter.listTimers()).toEqual([]);
	});

	test("resetAt sets the count to zero at the given time", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("reset")]);
		await counter.increment(9);
		await counter.resetAt(Date.now() + 1_000);
		await expect.poll(() => counter.getCount(), { timeout: 15_000, interval: 250 }).toBe(0);
	});

	test("the schedule callback refuses direct client calls", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("guard")]);
		const timer = await counter.incrementLater(1, 60_000);
		await expect(counter.fireTimer("guess")).rejects.toMatchObject({ code: "forbidden" });
		await expect(counter.fireTimer(undefined)).rejects.toMatchObject({ code: "forbidden" });
		expect(await counter.getCount()).toBe(0);
		expect(await counter.listTimers()).toEqual([timer]);
	});

	test("bad schedule arguments are rejected", async () => {
		const counter = testClient().counter.getOrCreate([uniqueKey("badsched")]);
		await expect(counter.incrementLater(1, -5)).rejects.toMatchObject({ code: "invalid_input" });
		await expect(counter.resetAt(Date.now() + 365 * 24 * 3_600_000)).rejects.toMatchObject({
			code: "timestamp_out_of_range",
		});
		expect(await counter.listTimers()).toEqual([]);
	});
});
