// A versioned deploy on the fixture server: v1 hosts state, SQLite rows, a
// pending schedule, a workflow mid-run and queued tasks; v2 starts on the same
// pool, the engine drains v1's actors onto it, and v1 stopped with SIGTERM loses nothing.

import { expect, inject, onTestFinished, test } from "vitest";
import { startServerForPool } from "../../tools/local/stack.ts";
import { FIXTURE_SERVER_ENTRY } from "../fixtures/entry.ts";
import { fixtureEngineUrl as engineUrl, fixtureClient, uniqueKey } from "../support.ts";

interface Envoy {
	version: number;
	slots: number;
	stop_ts: number | null;
}

/** Actors hosted per runner version: each server runs one envoy, whose `slots` counts its actors. */
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
	const dataDir = inject("fixtureDataDir");
	const entry = FIXTURE_SERVER_ENTRY;
	const v1 = await startServerForPool(engineUrl(), { pool, dataDir, entry, env: { RIVET_RUNNER_VERSION: "1" } });
	onTestFinished(() => v1.stop().then(() => undefined));
	const client = fixtureClient({ poolName: pool });
	const tallies = [0, 1, 2].map((i) => client.tally.getOrCreate([uniqueKey(`drain-${i}`)]));
	for (const [i, tally] of tallies.entries()) expect(await tally.increment(10 + i)).toBe(10 + i);
	// A schedule armed on v1 that must fire on v2.
	const DELAY_MS = 12_000;
	await tallies[0]?.incrementLater(5, DELAY_MS);
	// SQLite rows.
	const notebook = client.notebook.getOrCreate([uniqueKey("drain-notebook")], { params: { author: "ops" } });
	const posted = [await notebook.write("before the deploy"), await notebook.write("still v1")];
	// A workflow mid-run with more tasks pending in its queue.
	const pipeline = client.pipeline.getOrCreate([uniqueKey("drain-pipeline")]);
	const long = { taskId: "long", stages: 20, stageMs: 250 };
	const queued = ["q1", "q2"].map((taskId) => ({ taskId, stages: 2, stageMs: 0 }));
	for (const task of [long, ...queued]) await pipeline.send("tasks", task);
	await expect.poll(() => pipeline.status().then((s) => s.current?.taskId)).toBe("long");
	// The engine's slot counts follow the actors' starts: poll.
	await expect.poll(() => actorsByVersion(pool)).toEqual({ 1: 5 });

	const v2 = await startServerForPool(engineUrl(), { pool, dataDir, entry, env: { RIVET_RUNNER_VERSION: "2" } });
	onTestFinished(() => v2.stop().then(() => undefined));
	// The engine sees v2's version through metadata polling and drains v1:
	// its actors save, stop and wait (asleep) for their next request.
	// (A drained envoy may also be listed as stopped, and so counted as none.)
	await expect.poll(() => actorsByVersion(pool).then((v) => v[1] ?? 0), { timeout: 30_000, interval: 250 }).toBe(0);

	// A new actor goes straight to v2.
	const fresh = client.tally.getOrCreate([uniqueKey("drain-new")]);
	expect(await fresh.increment(1)).toBe(1);
	await expect.poll(() => actorsByVersion(pool).then((v) => v[2] ?? 0)).toBeGreaterThanOrEqual(1);

	expect(await v1.stop()).toBe(0);

	// tallies[0] may already have its timer's +5 (checked below).
	for (const [i, tally] of tallies.entries()) if (i > 0) expect(await tally.getCount()).toBe(10 + i);
	expect(await fresh.getCount()).toBe(1);
	expect(await notebook.list()).toEqual(posted);
	for (const task of [long, ...queued]) {
		// Each stage ran once: the sum of 1..stages.
		await expect
			.poll(() => pipeline.getTask(task.taskId), { timeout: 60_000, interval: 250 })
			.toEqual({ taskId: task.taskId, total: (task.stages * (task.stages + 1)) / 2 });
	}
	expect(await pipeline.status()).toEqual({ current: null, finished: 3 });
	// Everything now runs on v2 (idle actors may already be asleep again, so
	// one is called first).
	expect(await fresh.getCount()).toBe(1);
	const after = await actorsByVersion(pool);
	expect(after[1] ?? 0).toBe(0);
	expect(after[2]).toBeGreaterThanOrEqual(1);
	// The schedule armed on v1 fires on v2, once.
	await expect.poll(() => tallies[0]?.getCount(), { timeout: 30_000, interval: 250 }).toBe(15);
	expect(await tallies[0]?.listTimers()).toEqual([]);
}, 240_000);
