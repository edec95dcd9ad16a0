// Acknowledged writes survive kill -9 of the server.
//
// For each write path the fleet uses, every round writes, kills the server
// with SIGKILL the moment the acknowledgement arrives, starts a new server on
// the same port and reads the value back. A write the client was told
// succeeded must be there.

import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { faultCounts } from "./counters.ts";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, signInOn } from "./support.ts";

const ROUNDS = 20;
/**
 * Each round restarts the server. On a quiet machine the whole test takes
 * about 2 minutes; with load averages of 11-22 a restart alone took 7-18 s
 * (2026-12-06), and one run on wasm had reached round 19 of 20 when the
 * suite's 180 s test timeout ended it. A deadline, not a measurement: the
 * test asserts only that no acknowledged write is lost.
 */
const TEST_TIMEOUT_MS = ROUNDS * 20_000;

const counts = faultCounts("ack-writes");
let fleet: CrashStack;

beforeAll(async () => {
	fleet = await startCrashStack("ack-writes");
});

afterEach(({ task }) => fleet.noteResult(task));
afterAll(() => fleet.stop());

/** SIGKILL the server right after an ack, then start a fresh one on the same port. */
async function crashAndRestart(): Promise<void> {
	await fleet.crashServer();
	counts.injected++;
}

test(`state, SQLite and KV: ${ROUNDS} rounds of write on each path, kill -9, read`, {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	const client = clientFor(fleet.stack.engine.url);
	// Signed in once: access tokens verify on any server with the same secret.
	const [owner, alice, bob] = await Promise.all(
		["owner", "alice", "bob"].map((name) => signInOn(fleet.stack.server.url, name)),
	);
	const lost = { state: 0, sqlite: 0, kv: 0 };
	for (let round = 0; round < ROUNDS; round++) {
		// A fresh actor per round: its first write is the case plain `c.state`
		// loses (reliability findings, exp1b).
		const counter = client.counter.getOrCreate(["ack", String(round)], { params: owner?.params });
		const room = ["ack-chat", String(round)];
		const asBob = client.chatRoom.getOrCreate(room, { params: bob?.params });
		const asAlice = client.chatRoom.getOrCreate(room, { params: alice?.params });

		const count = await counter.increment(round + 1); // state, saved immediately
		const message = await asBob.postMessage(`round ${round}`); // a SQLite row
		await asAlice.markRead(message.id); // a KV entry
		await crashAndRestart();

		if ((await eventually(() => counter.getCount())) !== count) lost.state++;
		const page = await eventually(() => asAlice.history({ limit: 10 }));
		if (!page.messages.some((m) => m.id === message.id && m.text === `round ${round}`)) lost.sqlite++;
		if ((await eventually(() => asAlice.unreadCount())) !== 0) lost.kv++;
	}
	counts.lost += lost.state + lost.sqlite + lost.kv;
	expect(lost).toEqual({ state: 0, sqlite: 0, kv: 0 });
});
