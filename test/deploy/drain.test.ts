// A versioned deploy: v1 of the server hosts actors with state, SQLite rows,
// a pending schedule, a workflow mid-run and queued jobs; v2 starts on the same pool and the runner config moves to it. The
// engine drains v1's actors onto v2 (`drain_on_version_upgrade`), new actors
// go to v2, and v1 stopped with SIGTERM loses nothing.

import { expect, inject, onTestFinished, test } from "vitest";
import { startServerForPool } from "../../tools/local/stack.ts";
import { naiveSha256 } from "../actors/jobs/expected.ts";
import { engineUrl, testClient, uniqueKey } from "../support.ts";

interface Envoy {
	version: number;
	slots: number;
	stop_ts: number | null;
}

/**
 * Actors hosted per runner version, from the pool's live envoys. In
 * serverless mode each server process runs one envoy; `slots` counts the
 * actors it hosts.
 */
async function actorsByVersion(pool: string): Promise<Record<number, number>> {
	const res = await fetch(`${engineUrl()}/envoys?namespace=default&name=${encodeURIComponent(pool)}`);
	const body = (await res.json()) as { envoys: Envoy[] };
	const byVersion: Record<number, number> = {};
	for (const envoy of body.envoys) {
		if (envoy.stop_ts === null) byVersion[envoy.version] = (byVersion[envoy.version] ?? 0) + envoy.slots;
	}
	return byVersion;
}

test("v2 takes over v1's actors with their data; v1 stops cleanly", async () => {
	const pool = uniqueKey("drain");
	const dataDir = inject("dataDir");
	const v1 = await startServerForPool(engineUrl(), { pool, dataDir, env: { RIVET_RUNNER_VERSION: "1" } });
	onTestFinished(() => v1.stop().then(() => undefined));
	const client = testClient({ poolName: pool });
	const counters = [0, 1, 2].map((i) => client.counter.getOrCreate([uniqueKey(`drain-${i}`)]));
	for (const [i, counter] of counters.entries()) expect(await counter.increment(10 + i)).toBe(10 + i);
	// A schedule armed on v1 that must fire on v2.
	const DELAY_MS = 12_000;
	await counters[0]?.incrementLater(5, DELAY_MS);
	// SQLite rows.
	const room = client.chatRoom.getOrCreate([uniqueKey("drain-room")], { params: { username: "ops" } });
	const posted = [await room.postMessage("before the deploy"), await room.postMessage("still v1")];
	// A workflow mid-run with more jobs pending in its queue.
	const worker = client.worker.getOrCreate([uniqueKey("drain-worker")]);
	const long = { jobId: "long", kind: "sha256" as const, input: { text: "drain", rounds: 1_000_000 } };
	const queued = ["q1", "q2"].map((jobId) => ({ jobId, kind: "sha256" as const, input: { text: jobId, rounds: 10 } }));
	for (const job of [long, ...queued]) await worker.send("jobs", job);
	await expect.poll(() => worker.status().then((s) => s.current?.jobId)).toBe("long");
	expect(await actorsByVersion(pool)).toEqual({ 1: 5 });

	const v2 = await startServerForPool(engineUrl(), { pool, dataDir, env: { RIVET_RUNNER_VERSION: "2" } });
	onTestFinished(() => v2.stop().then(() => undefined));
	// The engine sees v2's version through metadata polling and drains v1:
	// its actors save, stop and wait (asleep) for their next request.
	await expect.poll(() => actorsByVersion(pool), { timeout: 30_000, interval: 250 }).toMatchObject({ 1: 0 });

	// A new actor goes straight to v2.
	const fresh = client.counter.getOrCreate([uniqueKey("drain-new")]);
	expect(await fresh.increment(1)).toBe(1);
	expect((await actorsByVersion(pool))[2]).toBeGreaterThanOrEqual(1);

	expect(await v1.stop()).toBe(0);

	// counters[0] may already have its timer's +5 (checked below).
	for (const [i, counter] of counters.entries()) if (i > 0) expect(await counter.getCount()).toBe(10 + i);
	expect(await fresh.getCount()).toBe(1);
	expect((await room.history({ limit: 10 })).messages).toEqual(posted);
	for (const job of [long, ...queued]) {
		await expect
			.poll(() => worker.getJob(job.jobId), { timeout: 60_000, interval: 250 })
			.toEqual({ jobId: job.jobId, status: "done", result: naiveSha256(job.input.text, job.input.rounds) });
	}
	expect(await worker.status()).toMatchObject({ completed: 3, failed: 0 });
	// Everything now runs on v2 (idle actors may already be asleep again).
	const after = await actorsByVersion(pool);
	expect(after[1] ?? 0).toBe(0);
	expect(after[2]).toBeGreaterThanOrEqual(1);
	// The schedule armed on v1 fires on v2, once.
	await expect.poll(() => counters[0]?.getCount(), { timeout: 30_000, interval: 250 }).toBe(15);
	expect(await counters[0]?.listTimers()).toEqual([]);
}, 240_000);
