// Acknowledged writes survive kill -9 of the server.
//
// For each write path the fleet uses, every round writes, kills the server
// with SIGKILL the moment the acknowledgement arrives, starts a new server on
// the same port and reads the value back. A write the client was told
// succeeded must be there.

import { afterAll, beforeAll, expect, test } from "vitest";
import type { RunningAppServer } from "../../src/local/app-server.ts";
import { type Stack, startServerForPool, startStack } from "../../src/local/stack.ts";
import { faultCounts } from "./counters.ts";
import { clientFor, eventually } from "./support.ts";

const ROUNDS = 20;

const counts = faultCounts("ack-writes");
let stack: Stack;
let server: RunningAppServer;

beforeAll(async () => {
	stack = await startStack();
	server = stack.server;
});

afterAll(async () => {
	await server.stop();
	await stack.engine.stop();
});

/** SIGKILL the server right after an ack, then start a fresh one on the same port. */
async function crashAndRestart(): Promise<void> {
	await server.kill();
	counts.injected++;
	server = await startServerForPool(stack.engine.url, {
		pool: stack.pool,
		dataDir: stack.dataDir,
		port: Number(new URL(server.url).port),
		configure: false,
	});
}

test(`state with an immediate save: ${ROUNDS} rounds of write, kill -9, read`, async () => {
	const client = clientFor(stack.engine.url);
	// One fresh counter per round; the first write to a fresh actor is the case
	// plain `c.state` loses (reliability findings, exp1b).
	const counters = Array.from({ length: ROUNDS }, (_, i) => client.counter.getOrCreate(["ack", String(i)]));
	let lost = 0;
	for (const [round, counter] of counters.entries()) {
		const acked = await counter.increment(round + 1);
		await crashAndRestart();
		const read = await eventually(() => counter.getCount());
		if (read !== acked) lost++;
	}
	counts.lost += lost;
	expect(lost).toBe(0);
});
