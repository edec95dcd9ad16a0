// src/workarounds/drain-unread-body.ts: a request the actor answers without
// reading its body (here rivetkit's inspector refusing a wrong token) gets
// its whole answer, not a connection closed after the answer's head.
// The few cut off even with it are the same race by another road (the
// measurements: src/workarounds/README.md), so up to `MAX_DROPPED` are allowed.

import { expect, test } from "vitest";
import { fixtureClient, fixtureEngineUrl, fixtureServerWith, uniqueKey } from "../support.ts";

const REFUSED_CALLS = 800;
/** How many calls are in flight at once (concurrency makes the missing workaround's drops frequent). */
const IN_FLIGHT = 8;
/** About 7% of the calls: with the workaround 0.4-2.1% were cut off, without it 8.6% at the fewest. */
const MAX_DROPPED = 55;

/** One inspector PATCH with a wrong token: "401" with its JSON body read whole, another status, or how it was dropped. */
async function refuse(actorId: string): Promise<string> {
	try {
		const res = await fetch(`${fixtureEngineUrl()}/gateway/${actorId}/inspector/state`, {
			method: "PATCH",
			headers: { authorization: "Bearer not-the-token", "content-type": "application/json" },
			body: JSON.stringify({ state: { count: 1_000 } }),
		});
		// The drop shows here, too: the engine may send the answer's head and close before its body.
		const body = (await res.json()) as { code?: unknown };
		return res.status === 401 && typeof body.code === "string" ? "401" : `${res.status} ${JSON.stringify(body)}`;
	} catch (error) {
		return `dropped: ${String((error as { cause?: unknown }).cause ?? error)}`;
	}
}

test("inspector calls refused before their body is read are answered 401, not dropped, and change nothing", async () => {
	const { pool, log } = await fixtureServerWith("drain", {
		FLEET_RUNTIME: "native",
		RIVETKIT_RUNTIME: undefined,
		FLEET_ENVOY_NODELAY: "on",
	});
	const tally = fixtureClient({ poolName: pool }).tally.getOrCreate([uniqueKey("drain")]);
	expect(await tally.increment(1)).toBe(1);
	const actorId = await tally.resolve();

	const outcomes: string[] = [];
	await Promise.all(
		Array.from({ length: IN_FLIGHT }, async () => {
			for (let i = 0; i < REFUSED_CALLS / IN_FLIGHT; i++) outcomes.push(await refuse(actorId));
		}),
	);

	// The server logs each body it had to cancel after all, and why.
	const cancelled = log()
		.split("\n")
		.filter((line) => line.includes("unread request body was cancelled"));
	const dropped = outcomes.filter((outcome) => outcome.startsWith("dropped"));
	expect(outcomes.filter((outcome) => !outcome.startsWith("dropped") && outcome !== "401")).toEqual([]);
	expect(dropped.length, [...new Set(dropped), ...cancelled].join("\n")).toBeLessThanOrEqual(MAX_DROPPED);
	expect(await tally.getCount()).toBe(1);
});
