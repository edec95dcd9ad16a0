// The retrying client against a real tally (a fixture actor,
// test/fixtures/actors/): retries reuse one idempotency key, so a write whose
// acknowledgement was lost is applied once; a call with no key is retried
// only when the engine proves it never reached the actor.

import { describe, expect, test } from "vitest";
import { callAtMostOnce, callIdempotent, neverRan, RetriesExhaustedError } from "../../../tools/client/retry.ts";
import { fixtureClient, uniqueKey } from "../../support.ts";

/** Keeps these tests quick: the backoff between attempts stays in milliseconds. */
const FAST = { initialBackoffMs: 5, maxBackoffMs: 20 };

describe("callIdempotent", () => {
	test("a write whose acknowledgement is lost is retried with the same key and applied once", async () => {
		const tally = fixtureClient().tally.getOrCreate([uniqueKey("retry-lost")]);
		const keys: string[] = [];
		const value = await callIdempotent(async ({ requestId, number }) => {
			keys.push(requestId);
			const result = await tally.increment(3, { requestId });
			// The write landed, but the caller never heard: as when a connection
			// drops after the actor saved the change.
			if (number === 1) throw new Error("socket hang up");
			return result;
		}, FAST);
		expect(value).toBe(3);
		expect(keys).toHaveLength(2);
		expect(new Set(keys).size).toBe(1);
		expect(await tally.getCount()).toBe(3);
	});

	test("an attempt that hangs past its timeout is abandoned, and its late arrival applies nothing", async () => {
		const tally = fixtureClient().tally.getOrCreate([uniqueKey("retry-hang")]);
		let late: Promise<number> | undefined;
		const value = await callIdempotent(
			({ requestId, number }) => {
				if (number > 1) return tally.increment(2, { requestId });
				// The first attempt's request is still on its way when the caller gives up on it.
				late = tally.increment(2, { requestId });
				return new Promise<number>(() => {});
			},
			{ ...FAST, attemptTimeoutMs: 200 },
		);
		expect(value).toBe(2);
		expect(await late).toBe(2);
		expect(await tally.getCount()).toBe(2);
	});

	test("a caller-chosen key makes a later call a retry of an earlier one", async () => {
		const tally = fixtureClient().tally.getOrCreate([uniqueKey("retry-key")]);
		const requestId = uniqueKey("order");
		const once = () => callIdempotent(({ requestId }) => tally.increment(5, { requestId }), { requestId });
		expect(await once()).toBe(5);
		expect(await once()).toBe(5);
		expect(await tally.getCount()).toBe(5);
	});

	test("a UserError is final: the call is not retried and changes nothing", async () => {
		const tally = fixtureClient().tally.getOrCreate([uniqueKey("retry-user")]);
		let attempts = 0;
		await expect(
			callIdempotent(({ requestId }) => {
				attempts++;
				return tally.increment(0.5, { requestId });
			}, FAST),
		).rejects.toMatchObject({ group: "user", code: "invalid_input" });
		expect(attempts).toBe(1);
		expect(await tally.getCount()).toBe(0);
	});

	test("it gives up at the deadline with the key, so the caller can retry later", async () => {
		const error = await callIdempotent(() => Promise.reject(new Error("connect ECONNREFUSED")), {
			...FAST,
			deadlineMs: 200,
			requestId: "r-1",
		}).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RetriesExhaustedError);
		expect(error).toMatchObject({ requestId: "r-1" });
		expect((error as RetriesExhaustedError).attempts).toBeGreaterThan(1);
		expect((error as RetriesExhaustedError).message).toContain("ECONNREFUSED");
	});

	test("aborting the caller's signal stops the retries", async () => {
		const controller = new AbortController();
		let attempts = 0;
		const call = callIdempotent(
			() => {
				attempts++;
				if (attempts === 2) controller.abort(new Error("user navigated away"));
				return Promise.reject(new Error("503"));
			},
			{ ...FAST, signal: controller.signal },
		);
		await expect(call).rejects.toThrow("user navigated away");
		expect(attempts).toBe(2);
	});
});

/** A pool no runner serves: the engine answers `actor.no_runner_config_configured`, as it has under load. */
const MISSING_POOL = "no-such-pool";

describe("callAtMostOnce", () => {
	test("an answer that proves the action never ran is retried, and the action runs once", async () => {
		const key = [uniqueKey("once-retried")];
		const missing = fixtureClient({ poolName: MISSING_POOL }).tally.getOrCreate(key);
		const tally = fixtureClient().tally.getOrCreate(key);
		const retried: unknown[] = [];
		const value = await callAtMostOnce(({ number }) => (number === 1 ? missing : tally).increment(1), {
			...FAST,
			onRetry: ({ error }) => retried.push(error),
		});
		expect(value).toBe(1);
		expect(retried).toHaveLength(1);
		expect(retried[0]).toMatchObject({ group: "actor", code: "no_runner_config_configured" });
		expect(neverRan(retried[0])).toBe(true);
		expect(await tally.getCount()).toBe(1);
	});

	test("any other failure is thrown at once, since the action may have run", async () => {
		const tally = fixtureClient().tally.getOrCreate([uniqueKey("once-final")]);
		let attempts = 0;
		const call = callAtMostOnce(async () => {
			attempts++;
			await tally.increment(1);
			throw new Error("socket hang up");
		}, FAST);
		await expect(call).rejects.toThrow("socket hang up");
		expect(attempts).toBe(1);
		expect(await tally.getCount()).toBe(1);
	});

	test("a pool that never appears ends at the deadline with the engine's own explanation", async () => {
		// A few attempts, not dozens, and a deadline long enough for a slow first
		// answer on a loaded machine. An attempt whose request fails in transport
		// ("fetch failed", now and then in a full run) rightly ends the call at
		// once: that outcome is not the one under test, so the call is made again,
		// on a new key, up to TRANSPORT_TRIES times.
		let error: unknown;
		for (let i = 0; i < TRANSPORT_TRIES; i++) {
			const missing = fixtureClient({ poolName: MISSING_POOL }).tally.getOrCreate([uniqueKey("once-missing")]);
			error = await callAtMostOnce(() => missing.increment(1), {
				initialBackoffMs: 150,
				maxBackoffMs: 300,
				deadlineMs: 1_500,
			}).catch((e: unknown) => e);
			if (!causeChain(error).includes("fetch failed")) break;
		}
		// Any other error ends the call at once (it may have reached an actor);
		// its whole cause chain goes into the failure message.
		expect(error, causeChain(error)).toBeInstanceOf(RetriesExhaustedError);
		expect((error as RetriesExhaustedError).attempts).toBeGreaterThan(1);
		expect((error as RetriesExhaustedError).message).toContain(MISSING_POOL);
	});
});

/** Calls of the missing-pool test ended by a transport failure before it gives up. */
const TRANSPORT_TRIES = 3;

/** "message ← cause ← cause…", for failure messages. */
function causeChain(error: unknown): string {
	const parts: string[] = [];
	for (let e = error; e !== undefined && parts.length < 5; e = e instanceof Error ? e.cause : undefined) {
		const code = typeof e === "object" && e !== null && "code" in e ? ` [${String(e.code)}]` : "";
		parts.push(`${e instanceof Error ? e.message : String(e)}${code}`);
	}
	return parts.join(" ← ");
}
