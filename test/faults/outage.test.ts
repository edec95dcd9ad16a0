// An app server outage longer than every schedule's lead: a batch submitted
// just before the only app server stops (SIGTERM, so it drains its actors)
// finishes after the server is back, with no client traffic.
//
// While the server is down, the coordinator's sweep and each worker's
// watchdog fall due; their wakes find no server and are spent (rivetkit
// 2.3.19). What brings the batch back is the server's start-up step in
// src/workarounds/resume-after-outage.ts. The test watches the
// worker's step ledger (a file), never the actors, so it adds no traffic
// until every job is stored.

import { expect, test } from "vitest";
import { COMPUTE_POOL_SIZE } from "../../src/actors/jobs/compute-pool.ts";
import { type BatchStatus, DEFAULT_SWEEP_INTERVAL_MS, MAX_HASH_ROUNDS } from "../../src/actors/jobs/contract.ts";
import { WATCHDOG_INTERVAL_MS } from "../../src/workarounds/crash-recovery.ts";
import { faultCounts } from "./counters.ts";
import { startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, readLedger, signInOn } from "./support.ts";

/** Longer than the sweep interval and the watchdog interval: every alarm of the batch falls due in the outage. */
const OUTAGE_MS = Math.max(DEFAULT_SWEEP_INTERVAL_MS, WATCHDOG_INTERVAL_MS) + 5_000;
/**
 * How long a stopping server may keep running its actors' work. The drain
 * does not always stop a job at its next step: in one pair of runs it took
 * 0.4 s on native (no job stored meanwhile) and 5.1 s on wasm (11 jobs
 * stored). rivetkit bounds an actor's graceful stop by its `sleepGracePeriod`,
 * 15 s by default (`DEFAULT_SLEEP_GRACE_PERIOD` in rivetkit's
 * src/actor/config.ts), and the workers set none.
 */
const LONGEST_DRAIN_MS = 15_000;
/** A lower bound for one hash job of MAX_HASH_ROUNDS on one idle core (several times more on a loaded one). */
const JOB_MS_AT_LEAST = 1_000;
/**
 * Hash jobs of the most rounds a job may take: the batch's length is then
 * set by the compute pool (COMPUTE_POOL_SIZE threads), the same on both
 * runtimes, rather than by the engine round trips of many short steps. With
 * 24 short prime counts, a wasm server once finished the whole batch inside
 * its drain. Enough jobs that the batch needs more than the longest drain
 * even on an idle machine, so it is still running when the outage starts
 * (the test checks it).
 */
const JOBS = Math.ceil((1.2 * LONGEST_DRAIN_MS * COMPUTE_POOL_SIZE) / JOB_MS_AT_LEAST);
/**
 * Generous: the restart, the resume and the rest of the batch (tens of
 * CPU-seconds, which took minutes at a load average of 15 on two cores).
 */
const FINISH_TIMEOUT_MS = 240_000;

const counts = faultCounts("outage");

test("a batch submitted just before a 20 s stop of the only server finishes after the restart, with no traffic", async () => {
	const fleet = await startCrashStack("outage");
	try {
		const client = clientFor(fleet.stack.engine.url);
		const { params } = await signInOn(fleet.stack.server.url, "outage");
		const batchId = `outage-${Date.now().toString(36)}`;
		const coordinator = client.coordinator.getOrCreate([batchId], { params });
		const items = Array.from({ length: JOBS }, (_, i) => ({
			kind: "sha256" as const,
			input: { text: `outage-${i}`, rounds: MAX_HASH_ROUNDS },
		}));
		const submitted = await coordinator.submit({ items, workers: 3 });
		expect(submitted).toMatchObject({ state: "running", total: JOBS });

		const stored = () =>
			new Set(
				readLedger(fleet.ledgerFile)
					.filter((l) => l.event === "END" && l.step === "store" && l.jobId.startsWith(`${batchId}:`))
					.map((l) => l.jobId),
			).size;
		const storedAtStop = stored();
		const stopAt = Date.now();
		let storedWhileDown = 0;
		let drainMs = 0;
		await fleet.stopServerFor(OUTAGE_MS, () => {
			storedWhileDown = stored();
			drainMs = Date.now() - stopAt;
		});
		const restartedAt = Date.now();
		counts.injected++;
		// Otherwise the outage proved nothing: the batch must be unfinished when it starts.
		expect(
			storedWhileDown,
			`jobs stored after the drain (${storedAtStop} when the stop began, the drain took ${drainMs} ms)`,
		).toBeLessThan(JOBS);
		await expect.poll(stored, { timeout: FINISH_TIMEOUT_MS, interval: 250 }).toBe(JOBS);
		console.log(
			`outage: ${storedAtStop} of ${JOBS} jobs stored when the stop began, ${storedWhileDown} when the server ` +
				`had drained and exited (${(drainMs / 1_000).toFixed(1)} s); down for ${OUTAGE_MS / 1_000} s; ` +
				`all ${JOBS} stored ${((Date.now() - restartedAt) / 1_000).toFixed(1)} s after the restart, with no traffic`,
		);

		const status = await eventually(async (): Promise<BatchStatus> => {
			const s = await coordinator.status();
			if (s.state !== "done") throw new Error(`batch ${s.state}: ${s.done} of ${s.total}`);
			return s;
		});
		counts.lost += JOBS - status.done - status.failed;
		expect(status).toMatchObject({ state: "done", total: JOBS, done: JOBS, failed: 0 });
		const results = await coordinator.results();
		expect(results.map((r) => r.status)).toEqual(Array(JOBS).fill("done"));
	} finally {
		await fleet.stop();
	}
}, 420_000);
