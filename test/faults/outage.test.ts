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
import { type BatchStatus, DEFAULT_SWEEP_INTERVAL_MS, MAX_PRIME_LIMIT } from "../../src/actors/jobs/contract.ts";
import { WATCHDOG_INTERVAL_MS } from "../../src/workarounds/crash-recovery.ts";
import { faultCounts } from "./counters.ts";
import { startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, readLedger, signInOn } from "./support.ts";

/** Longer than the sweep interval and the watchdog interval: every alarm of the batch falls due in the outage. */
const OUTAGE_MS = Math.max(DEFAULT_SWEEP_INTERVAL_MS, WATCHDOG_INTERVAL_MS) + 5_000;
/**
 * Enough work that jobs are still queued when the server stops (the test
 * checks it, and prints how many jobs the drain stored). Not yet enough on
 * wasm every time: a stopping wasm server keeps running its workers' jobs
 * for seconds (5.1 s in one run, native 0.4 s), and once stored all 24
 * before it exited. Hash jobs bound by the compute pool made the batch
 * outlast the drain on both runtimes, but took minutes to finish when the
 * fault suite's other CPU-heavy files ran beside it; see
 * docs/performance.md ("Which runtime is the default", third pass).
 */
const JOBS = 24;
/** Generous: the restart, the resume and six small jobs on a loaded two-core machine. */
const FINISH_TIMEOUT_MS = 90_000;

const counts = faultCounts("outage");

test("a batch submitted just before a 20 s stop of the only server finishes after the restart, with no traffic", async () => {
	const fleet = await startCrashStack("outage");
	try {
		const client = clientFor(fleet.stack.engine.url);
		const { params } = await signInOn(fleet.stack.server.url, "outage");
		const batchId = `outage-${Date.now().toString(36)}`;
		const coordinator = client.coordinator.getOrCreate([batchId], { params });
		const items = Array.from({ length: JOBS }, (_, i) => ({
			kind: "primes" as const,
			input: { limit: MAX_PRIME_LIMIT - i },
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
}, 240_000);
