// Schedules fire exactly once after a server crash and after an engine
// crash, with no client traffic; and when the engine dies, `/health` says so
// and the server recovers by itself once the engine is back.

import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import type { PendingTimer } from "../../src/actors/counter/contract.ts";
import { faultCounts } from "./counters.ts";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, signInOn } from "./support.ts";

/**
 * Long enough for the crash and the restart to be over before the timers fall
 * due, even on a loaded machine: a restart takes 2-6 s on a quiet one, but
 * 7-18 s was measured on 2026-12-06 with load averages of 13-22 (on both
 * runtimes; almost all of it importing modules), and 20 s was once too
 * short. A timer that falls due while no server listens is a different case
 * (see docs/reliability.md, "outage"), so the server test checks it did not
 * happen.
 */
const TIMER_DELAY_MS = 30_000;
/** How long after the last timer's due time the counts are read. */
const SETTLE_MS = 4_000;
const TIMERS = 5;

const counts = faultCounts("engine-and-schedules");
let fleet: CrashStack;

beforeAll(async () => {
	fleet = await startCrashStack("engine-and-schedules");
});

afterEach(({ task }) => fleet.noteResult(task));
afterAll(() => fleet.stop());

/**
 * Lets the timers' due time pass with no request to the actors. This is a
 * deliberate wait, not a poll: polling the actors would be exactly the
 * traffic that could wake them, and the point is that the engine wakes them
 * for their alarms by itself.
 */
async function waitWithoutTraffic(timers: PendingTimer[]): Promise<void> {
	const lastDue = Math.max(...timers.map((t) => t.runAt));
	await new Promise((r) => setTimeout(r, lastDue + SETTLE_MS - Date.now()));
}

test("armed schedules fire once after a server kill -9, with no traffic", async () => {
	const client = clientFor(fleet.stack.engine.url);
	const { params } = await signInOn(fleet.stack.server.url, "scheduler");
	const counters = Array.from({ length: TIMERS }, (_, i) =>
		client.counter.getOrCreate(["sched-crash", String(i)], { params }),
	);
	const timers: PendingTimer[] = [];
	for (const counter of counters) timers.push(await counter.incrementLater(1, TIMER_DELAY_MS));

	await fleet.crashServer();
	counts.injected++;
	const firstDue = Math.min(...timers.map((t) => t.runAt));
	expect(Date.now(), "the new server listened before the first timer fell due").toBeLessThan(firstDue);
	await waitWithoutTraffic(timers);
	let missing = 0;
	let duplicated = 0;
	for (const counter of counters) {
		const count = await eventually(() => counter.getCount());
		if (count < 1) missing++;
		if (count > 1) duplicated++;
		expect(await counter.listTimers()).toEqual([]);
	}
	counts.lost += missing;
	counts.duplicated += duplicated;
	expect({ missing, duplicated }).toEqual({ missing: 0, duplicated: 0 });
});

test("engine kill -9: /health turns 503, the server recovers without a restart, schedules fire once", async () => {
	const client = clientFor(fleet.stack.engine.url);
	const { params } = await signInOn(fleet.stack.server.url, "scheduler");
	const counters = Array.from({ length: TIMERS }, (_, i) =>
		client.counter.getOrCreate(["sched-engine", String(i)], { params }),
	);
	for (const counter of counters) await counter.increment(10);
	const timers: PendingTimer[] = [];
	for (const counter of counters) timers.push(await counter.incrementLater(1, TIMER_DELAY_MS));

	const server = fleet.stack.server;
	await fleet.killEngine();
	counts.injected++;
	const down = await fetch(`${server.url}/health`);
	expect(down.status).toBe(503);
	expect(await down.json()).toMatchObject({ engine: { status: "unreachable" } });

	await fleet.restartEngine();
	const serverPid = server.pid;
	await expect.poll(async () => (await fetch(`${server.url}/health`)).status, { timeout: 30_000 }).toBe(200);

	await waitWithoutTraffic(timers);
	let missing = 0;
	let duplicated = 0;
	for (const counter of counters) {
		const count = await eventually(() => counter.getCount());
		if (count < 11) missing++;
		if (count > 11) duplicated++;
	}
	counts.lost += missing;
	counts.duplicated += duplicated;
	expect({ missing, duplicated }).toEqual({ missing: 0, duplicated: 0 });
	// The same server process served them: it recovered on its own.
	expect(server.pid).toBe(serverPid);
	expect(server.process.exitCode).toBeNull();
});
