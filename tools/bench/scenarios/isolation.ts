// Scenario 11: isolation under load. A counter's `.connect()` round trip, one
// call at a time, first with the app server idle, then while the same server
// computes a 200-job coordinator batch (16 workers, each job real SHA-256
// work), in one run and on each runtime. What it shows: whether job
// computation delays every other actor on that server.
//
// Job chunks run on the app server's worker-thread pool (COMPUTE_POOL_SIZE
// threads, src/actors/jobs/compute-pool.ts), not on the event loop that
// answers the counter; the workflow steps around them still run there.

import { COMPUTE_POOL_SIZE } from "../../../src/actors/jobs/compute-pool.ts";
import type { JobSpec } from "../../../src/actors/jobs/contract.ts";
import {
	type BenchContext,
	eachRuntime,
	type RuntimeSide,
	readyConnection,
	rowName,
	type Scenario,
} from "../lib/context.ts";
import { closedLoop, log, measure, Samples, within } from "../lib/measure.ts";

/** The batch size (also `MAX_BATCH_ITEMS`). */
const BATCH_ITEMS = 200;
const WORKERS = 16;
/** Hash rounds per job: about 20 ms of hashing each (1,000,000 rounds take about a second); 5 ms in the quick run. */
const JOB_ROUNDS = 20_000;
const QUICK_JOB_ROUNDS = 5_000;
/** How long the idle measurement runs. */
const IDLE_MS = 3_000;
const QUICK_IDLE_MS = 2_000;
const BATCH_TIMEOUT_MS = 180_000;
/** Where the job computation runs; stated in the rows' notes. */
export const JOB_POOL_NOTE = `job chunks compute on a worker-thread pool of ${COMPUTE_POOL_SIZE} threads`;

export const isolation: Scenario = (ctx) => eachRuntime(ctx, (side) => isolationOn(ctx, side));

async function isolationOn(ctx: BenchContext, side: RuntimeSide): Promise<void> {
	const prefix = `${ctx.runId}-${side.runtime}-iso`;
	const counter = await readyConnection(
		() => side.client.counter.getOrCreate([`${prefix}-counter`], { params: ctx.auth.params }).connect(),
		(c) => c.getCount(),
		"isolation counter",
	);
	const coordinator = await readyConnection(
		() => side.client.coordinator.getOrCreate([`${prefix}-batch`], { params: ctx.auth.params }).connect(),
		(c) => c.status(),
		"isolation coordinator",
	);
	try {
		const idleName = rowName("isolation: counter .connect() round trip, idle", side);
		const idle = await measure(idleName, side.pids, async (progress) => {
			const { samples, elapsedMs } = await closedLoop({
				concurrency: 1,
				durationMs: ctx.quick ? QUICK_IDLE_MS : IDLE_MS,
				op: () => counter.increment(1),
				onProgress: progress,
			});
			return {
				scenario: idleName,
				baseline: "sequential" as const,
				notes: "one call at a time; nothing else on this server",
				...samples.summary(elapsedMs),
			};
		});
		ctx.results.push(idle);

		const rounds = ctx.quick ? QUICK_JOB_ROUNDS : JOB_ROUNDS;
		const job: JobSpec = { kind: "sha256", input: { text: "isolation", rounds } };
		const busyName = rowName(`isolation: counter .connect() round trip, during a ${BATCH_ITEMS}-job batch`, side);
		const busy = await measure(busyName, side.pids, async (progress) => {
			let finished = false;
			const batchDone = new Promise<void>((resolve) => {
				coordinator.on("finished", () => {
					finished = true;
					resolve();
				});
			});
			const started = performance.now();
			await coordinator.submit({ items: Array.from({ length: BATCH_ITEMS }, () => job), workers: WORKERS });
			const samples = new Samples();
			// The counter's loop runs until the batch reports `finished`.
			const loop = (async () => {
				while (!finished && performance.now() - started < BATCH_TIMEOUT_MS) {
					const t = performance.now();
					try {
						await counter.increment(1);
						samples.ok(performance.now() - t);
					} catch (error) {
						samples.fail(error);
					}
					progress(`${samples.latencies.length} counter calls`);
				}
			})();
			const inTime = await within(batchDone, BATCH_TIMEOUT_MS);
			finished = true;
			await loop;
			const batchMs = performance.now() - started;
			if (!inTime) samples.fail(new Error(`the batch did not finish within ${BATCH_TIMEOUT_MS / 1_000} s`));
			const summary = samples.summary(batchMs);
			const ratio = (a: number | null, b: number | null) => (a !== null && b ? `${(a / b).toFixed(2)}×` : "?");
			return {
				scenario: busyName,
				baseline: "sequential" as const,
				notes: [
					`${BATCH_ITEMS} sha256 jobs of ${rounds} rounds over ${WORKERS} workers on the same server, ${(batchMs / 1_000).toFixed(1)} s; ${JOB_POOL_NOTE}`,
					`vs idle: p50 ${ratio(summary.p50Ms, idle.p50Ms)}, p99 ${ratio(summary.p99Ms, idle.p99Ms)}`,
					samples.errorNote(),
				]
					.filter(Boolean)
					.join("; "),
				...summary,
			};
		});
		ctx.results.push(busy);
		log(`  ${side.runtime}: ${busy.notes}`);
	} finally {
		await Promise.all([counter.dispose(), coordinator.dispose()]);
	}
}
