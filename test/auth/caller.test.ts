// `callerOf` (src/auth/connection.ts) on each context rivetkit 2.3.19 builds
// (registry/native.ts): a connection's, the inspector route's (its request
// only) and a schedule's (neither), the last fired for real (caller-probe.ts).
// example-actors:start (the README's removal block deletes these lines)
// test/actors/authorization.test.ts makes the same calls through a real
// engine.
// example-actors:end

import { describe, expect, test } from "vitest";
import { callerOf, type Identity, INSPECTOR_IDENTITY } from "../../src/auth/connection.ts";
import { fixtureClient, uniqueKey } from "../support.ts";

const alice: Identity = { userId: "u_alice", name: "alice", role: "user", expiresAt: Date.now() + 60_000 };

function post(path: string): Request {
	return new Request(`http://127.0.0.1${path}`, { method: "POST", body: "{}" });
}

describe("callerOf", () => {
	test("a call over a connection is that connection's identity, whatever its request", () => {
		expect(callerOf({ conn: { state: alice }, request: post("/inspector/action/increment") })).toBe(alice);
		expect(callerOf({ conn: { state: alice } })).toBe(alice);
	});

	test("an inspector action call (no connection, the inspector's request) is the operator-level inspector", () => {
		for (const path of ["/inspector/action/increment", "/gateway/abc123/inspector/action/increment"]) {
			const caller = callerOf<Identity>({ request: post(path) });
			expect(caller).toEqual({
				userId: "inspector",
				name: "inspector",
				role: "operator",
				expiresAt: expect.any(Number),
			});
			// What it may then call is the "inspector" arrival of test/actors/access.test.ts.
			expect(caller).toBe(INSPECTOR_IDENTITY);
		}
	});

	test("on a real engine, a schedule's callback runs with no connection, no request and so no identity", async () => {
		const probe = fixtureClient().callerProbe.getOrCreate([uniqueKey("caller")], { params: { name: "alice" } });
		// The same action, called by a client: the connection's identity.
		expect(await probe.record("client")).toMatchObject({ via: "client", caller: "alice", hasConnection: true });
		// Armed by that client, fired by the actor's schedule.
		await probe.recordLater(0);
		await expect
			.poll(async () => (await probe.seen()).find((s) => s.via === "schedule"), { timeout: 30_000 })
			.toEqual({ via: "schedule", caller: null, hasConnection: false, hasRequest: false });
	});

	test("no connection and no request (a schedule callback), or any other request, is not the inspector: no identity", () => {
		expect(callerOf({})).toBeUndefined();
		for (const request of [
			post("/inspector/state"),
			post("/action/increment"),
			post("/request/inspector/action/increment"),
			post("/inspector/action/"),
			new Request("http://127.0.0.1/inspector/action/increment", { method: "GET" }),
		]) {
			expect({ url: request.url, method: request.method, caller: callerOf({ request }) }).toMatchObject({
				caller: undefined,
			});
		}
	});

	test("the inspector identity cannot be changed by the code that receives it", () => {
		const caller = callerOf({ request: post("/inspector/action/increment") }) as Identity;
		expect(() => {
			caller.role = "server";
		}).toThrow(TypeError);
		expect(INSPECTOR_IDENTITY.role).toBe("operator");
	});
});
