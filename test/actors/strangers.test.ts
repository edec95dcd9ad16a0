// Nothing left by strangers (src/actors/strangers.ts): a token-less
// `getOrCreate` on a fresh key makes the engine create the actor before the
// actor refuses the connection. The actor then destroys itself, so the
// engine's list keeps nothing a stranger made; an actor that holds
// something, or has a connection open, stays.

import { expect, test } from "vitest";
import { forEachConcurrently } from "../../src/concurrency.ts";
import { engineUrl, testClient, uniqueKey } from "../support.ts";
import { disposeConnections, signInAs } from "./helpers.ts";

/** Token-less calls per actor kind: 4 kinds, 100 calls. */
const CALLS_PER_KIND = 25;
/** How long the flood test may take: 100 calls and each actor's FORGET_AFTER_MS, on a loaded machine. */
const FLOOD_TEST_TIMEOUT_MS = 150_000;
/** Calls in flight at once: the machine runs other suites' tests too. */
const CONCURRENCY = 8;

type Kind = "counter" | "chatRoom" | "coordinator" | "worker";
const KINDS: readonly Kind[] = ["counter", "chatRoom", "coordinator", "worker"];

/** Whether the engine lists an actor (not destroyed) of `name` with `key`. */
async function isListed(name: Kind, key: string): Promise<boolean> {
	const res = await fetch(`${engineUrl()}/actors?namespace=default&name=${name}&key=${encodeURIComponent(key)}`);
	expect(res.status).toBe(200);
	const body = (await res.json()) as { actors: Array<{ key: string | null; destroy_ts?: number | null }> };
	return body.actors.some((a) => a.key === key && a.destroy_ts == null);
}

async function countListed(keys: ReadonlyArray<[Kind, string]>): Promise<number> {
	let listed = 0;
	await forEachConcurrently([...keys], CONCURRENCY, async ([kind, key]) => {
		if (await isListed(kind, key)) listed++;
	});
	return listed;
}

/** One token-less call on `kind`'s actor at `key`; returns the refusal's code. */
async function strangerCall(client: ReturnType<typeof testClient>, kind: Kind, key: string): Promise<string> {
	const call: Record<Kind, () => Promise<unknown>> = {
		counter: () => client.counter.getOrCreate([key]).getCount(),
		chatRoom: () => client.chatRoom.getOrCreate([key]).info(),
		coordinator: () => client.coordinator.getOrCreate([key]).status(),
		worker: () => client.worker.getOrCreate([key]).status(),
	};
	try {
		await call[kind]();
	} catch (error) {
		return (error as { code?: string }).code ?? String(error);
	}
	return "accepted";
}

test(
	"100 token-less getOrCreate calls on fresh keys leave 0 actors; what holds something or is connected stays",
	async () => {
		const client = testClient();
		const alice = await signInAs("alice");

		// Before the flood: a room alice posted in, and an empty room alice has
		// open. A stranger is refused at each; both must outlive the flood below,
		// whose actors are refused later and so are checked later.
		const usedRoom = uniqueKey("stranger-used");
		await client.chatRoom.getOrCreate([usedRoom], { params: { token: alice.token } }).postMessage("hello");
		expect(await strangerCall(client, "chatRoom", usedRoom)).toBe("unauthenticated");
		const openRoom = uniqueKey("stranger-open");
		const conn = client.chatRoom.getOrCreate([openRoom], { params: { token: alice.token } }).connect();
		try {
			expect((await conn.info()).messageCount).toBe(0);
			expect(await strangerCall(client, "chatRoom", openRoom)).toBe("unauthenticated");

			const keys = KINDS.flatMap((kind) =>
				Array.from({ length: CALLS_PER_KIND }, (): [Kind, string] => [kind, uniqueKey(`stranger-${kind}`)]),
			);
			const codes: string[] = [];
			await forEachConcurrently(keys, CONCURRENCY, async ([kind, key]) => {
				codes.push(await strangerCall(client, kind, key));
			});
			expect(codes.filter((code) => code === "unauthenticated")).toHaveLength(keys.length);
			// Each actor destroys itself FORGET_AFTER_MS after its refusal; the engine lists it until it has stopped.
			await expect.poll(() => countListed(keys), { timeout: 90_000, interval: 1_000 }).toBe(0);
			console.log(
				`strangers: ${keys.length} token-less getOrCreate calls on fresh keys, ${codes.length} refused, 0 actors left`,
			);

			// The room alice holds open is still there, empty and usable.
			expect(await isListed("chatRoom", openRoom)).toBe(true);
			expect((await conn.postMessage("still here")).text).toBe("still here");
		} finally {
			await disposeConnections(conn);
		}
		expect(await isListed("chatRoom", usedRoom)).toBe(true);
		expect(
			(await client.chatRoom.getOrCreate([usedRoom], { params: { token: alice.token } }).info()).messageCount,
		).toBe(1);
	},
	FLOOD_TEST_TIMEOUT_MS,
);

test("a key a stranger was refused on is free: a signed-in user creates it afresh", async () => {
	const client = testClient();
	const key = uniqueKey("stranger-then-owner");
	expect(await strangerCall(client, "counter", key)).toBe("unauthenticated");
	await expect.poll(() => isListed("counter", key), { timeout: 30_000 }).toBe(false);
	const bob = await signInAs("bob");
	const counter = client.counter.getOrCreate([key], { params: { token: bob.token } });
	expect(await counter.increment(2)).toBe(2);
	expect(await counter.getCount()).toBe(2);
});
