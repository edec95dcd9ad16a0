// A bounded load test on loopback: 50 chat connections in one room for
// 30 s while a few of them post at a steady rate and counters take a steady
// stream of increments. Nothing may fail and no message may be lost: every
// connection must receive every message posted while it was connected.

import { createClient } from "rivetkit/client";
import { expect, inject, test } from "vitest";
import type { ChatMessage } from "../../src/actors/chat-room.ts";
import type { Registry } from "../../src/registry.ts";
import { faultCounts } from "./counters.ts";

/**
 * 100 connections passed alone on a quiet 2-core machine (62 s, 298 messages
 * × 100 deliveries); beside the crash tests, which share those two cores in
 * this suite, their presence fan-out (n² events) made the handshakes outlast
 * any sane timeout. 50 keeps the suite reliable; raise it on bigger machines.
 */
const CONNECTIONS = 50;
const CONNECT_BATCH = 10;
const DURATION_MS = 30_000;
const SENDERS = 5;
/** Per sender: 5 senders × 2/s = 10 messages/s fanned out to 100 connections. */
const SEND_INTERVAL_MS = 500;
/** Counter increments per second, spread over 10 counters. */
const ACTIONS_PER_SECOND = 10;

faultCounts("load");

test(`${CONNECTIONS} chat connections for ${DURATION_MS / 1_000} s plus ${ACTIONS_PER_SECOND} actions/s: no errors, no lost messages`, async () => {
	const client = createClient<Registry>({ endpoint: inject("engineUrl") });
	const room = [`load-${Date.now()}`];
	const received = Array.from({ length: CONNECTIONS }, () => new Set<number>());
	const errors: string[] = [];
	const conns: Array<ReturnType<ReturnType<typeof client.chatRoom.getOrCreate>["connect"]>> = [];
	try {
		// Connections open in batches, each batch connected before the next:
		// a hundred WebSocket upgrades at once only measure the handshake queue.
		for (let i = 0; i < CONNECTIONS; i++) {
			const conn = client.chatRoom.getOrCreate(room, { params: { username: `user${i}` } }).connect();
			conn.on("message", (m: ChatMessage) => received[i]?.add(m.id));
			conn.onError((e) => errors.push(`conn ${i}: ${e.message}`));
			conns.push(conn);
			if (conns.length % CONNECT_BATCH === 0 || i === CONNECTIONS - 1) {
				await expect
					.poll(() => conns.filter((c) => c.connStatus !== "connected").length, { timeout: 60_000, interval: 100 })
					.toBe(0);
			}
		}

		const sent: number[] = [];
		// Counters are created and resolved to ids before the clock starts, so the
		// steady traffic measures actions, not actor creation.
		const counterIds = await Promise.all(
			Array.from({ length: 10 }, (_, i) => client.counter.getOrCreate([`${room[0]}-c${i}`]).resolve()),
		);
		const counters = counterIds.map((id) => client.counter.getForId(id));
		for (const counter of counters) await counter.getCount();
		const expected = new Array<number>(counters.length).fill(0);
		const calls: Array<Promise<void>> = [];
		// A steady rate: calls start on a clock, whatever the latency of earlier ones.
		const every = (intervalMs: number, fire: (n: number) => Promise<void>) => {
			let n = 0;
			const timer = setInterval(() => calls.push(fire(n++)), intervalMs);
			return () => clearInterval(timer);
		};
		const stops = [
			every(SEND_INTERVAL_MS / SENDERS, async (n) => {
				try {
					const m = await conns[n % SENDERS]?.postMessage(`message ${n}`);
					if (m) sent.push(m.id);
				} catch (e) {
					errors.push(`post: ${(e as Error).message}`);
				}
			}),
			every(1_000 / ACTIONS_PER_SECOND, async (n) => {
				const i = n % counters.length;
				try {
					await counters[i]?.increment(1);
					expected[i] = (expected[i] ?? 0) + 1;
				} catch (e) {
					errors.push(`increment: ${(e as Error).message}`);
				}
			}),
		];
		await new Promise((r) => setTimeout(r, DURATION_MS));
		for (const stop of stops) stop();
		await Promise.all(calls);

		// Every connection gets every message (delivery is asynchronous: poll).
		await expect.poll(() => received.filter((r) => sent.some((id) => !r.has(id))).length, { timeout: 30_000 }).toBe(0);
		const counts = await Promise.all(counters.map((c) => c.getCount()));
		expect(counts).toEqual(expected);
		expect(errors).toEqual([]);
		const posted = (DURATION_MS / SEND_INTERVAL_MS) * SENDERS;
		expect(sent.length).toBeGreaterThanOrEqual(posted - SENDERS);
		console.log(
			`load: ${CONNECTIONS} connections, ${sent.length} messages × ${CONNECTIONS} deliveries, ${expected.reduce((a, b) => a + b, 0)} increments, 0 errors, 0 lost`,
		);
	} finally {
		await Promise.all(conns.map((c) => c.dispose()));
		await client.dispose();
	}
}, 300_000);
