// Scenario 6: queued work. Jobs/s through one worker's durable workflow
// (each job: queue message, lookup, validate, one compute chunk, store,
// complete: every step persisted), and a coordinator fan-out end to end
// (submit → every worker reports → `finished`).

import type { JobSpec } from "../../../src/actors/jobs/contract.ts";
import {
	type BenchContext,
	eachRuntime,
	type RuntimeSide,
	readyConnection,
	rowName,
	type Scenario,
} from "../lib/context.ts";
import { measure, Samples, within } from "../lib/measure.ts";

/** The cheapest real job: one round of SHA-256, one chunk. What is measured is the machinery. */
export const TINY_JOB: JobSpec = { kind: "sha256", input: { text: "bench", rounds: 1 } };
/** A coordinator batch holds at most 200 items (`MAX_BATCH_ITEMS`). */
const BATCH_ITEMS = 200;
const QUICK_BATCH_ITEMS = 100;
export const WORKERS_PER_BATCH = 16;
export const JOBS_TIMEOUT_MS = 300_000;

/** Jobs queued to the one worker (the Workflows peer's one instance takes as many). */
export function workerJobCount(ctx: Pick<BenchContext, "quick">): number {
	return ctx.quick ? 50 : 200;
}

/** The coordinator rows' batches and jobs per batch (the Workflows peer's fan-out runs the same). */
export function coordinatorBatches(ctx: Pick<BenchContext, "quick">): { batches: number; items: number } {
	return { batches: ctx.quick ? 1 : 5, items: ctx.quick ? QUICK_BATCH_ITEMS : BATCH_ITEMS };
}

export const workerJobs: Scenario = (ctx) => eachRuntime(ctx, (side) => workerJobsOn(ctx, side));

async function workerJobsOn(ctx: BenchContext, side: RuntimeSide): Promise<void> {
	const count = workerJobCount(ctx);
	const name = rowName(`worker: ${count} jobs queued to 1 worker`, side);
	// Jobs are sent with the server's token (only the server may enqueue);
	// the events are watched as an operator (only operators may subscribe).
	const key = [`${ctx.runId}-${side.runtime}-worker`];
	const handle = side.client.worker.getOrCreate(key, { params: ctx.auth.serverParams });
	const watcher = side.client.worker.getOrCreate(key, { params: ctx.auth.params });
	const conn = await readyConnection(
		() => watcher.connect(),
		(c) => c.status(),
		"worker connection",
	);
	const sentAt = new Map<string, number>();
	const samples = new Samples();
	let finished = 0;
	let allDone: () => void = () => {};
	const done = new Promise<void>((resolve) => {
		allDone = resolve;
	});
	conn.on("jobFinished", (result) => {
		const t = sentAt.get(result.jobId);
		if (t === undefined) return;
		sentAt.delete(result.jobId);
		if (result.status === "done") samples.ok(performance.now() - t);
		else samples.fail(new Error(result.error));
		if (++finished === count) allDone();
	});
	try {
		const result = await measure(name, side.pids, async (progress) => {
			const started = performance.now();
			for (let i = 0; i < count; i++) {
				const jobId = `${ctx.runId}-${side.runtime}-job-${i}`;
				sentAt.set(jobId, performance.now());
				await handle.send("jobs", { ...TINY_JOB, jobId });
			}
			const ticker = setInterval(() => progress(`${finished}/${count} finished`), 500);
			await within(done, JOBS_TIMEOUT_MS);
			clearInterval(ticker);
			samples.errors += count - finished;
			return {
				scenario: name,
				baseline: "sequential" as const,
				notes: "latency = queued → jobFinished; one job at a time per worker",
				...samples.summary(performance.now() - started),
			};
		});
		ctx.results.push(result);
	} finally {
		await conn.dispose();
	}
}

export const coordinatorFanOut: Scenario = (ctx) => eachRuntime(ctx, (side) => coordinatorFanOutOn(ctx, side));

async function coordinatorFanOutOn(ctx: BenchContext, side: RuntimeSide): Promise<void> {
	const { batches, items } = coordinatorBatches(ctx);
	const total = batches * items;
	const name = rowName(`coordinator: ${total} jobs, ${batches}×${WORKERS_PER_BATCH} workers`, side);
	const samples = new Samples();
	const conns: Array<ReturnType<ReturnType<typeof side.client.coordinator.getOrCreate>["connect"]>> = [];
	try {
		for (let b = 0; b < batches; b++) {
			conns.push(
				await readyConnection(
					() =>
						side.client.coordinator
							.getOrCreate([`${ctx.runId}-${side.runtime}-batch-${b}`], { params: ctx.auth.params })
							.connect(),
					(c) => c.status(),
					`coordinator connection ${b}`,
				),
			);
		}
		const result = await measure(name, side.pids, async (progress) => {
			const started = performance.now();
			let doneJobs = 0;
			const runs = conns.map(
				(conn) =>
					new Promise<void>((resolve) => {
						const t = performance.now();
						conn.on("progress", (status) => {
							doneJobs = Math.max(doneJobs, status.done);
							progress(`${status.done}/${status.total} in one batch`);
						});
						conn.on("finished", (status) => {
							samples.ok(performance.now() - t);
							if (status.failed === 0) return resolve();
							// Name each failure by the job's own error, so the notes say why.
							void conn
								.results()
								.then(
									(results) => {
										for (const r of results.filter((r) => r.status === "failed")) {
											samples.fail(new Error(`job failed: ${r.error ?? "no error recorded"}`));
										}
									},
									(error: unknown) => samples.fail(error),
								)
								.finally(resolve);
						});
						conn
							.submit({ items: Array.from({ length: items }, () => TINY_JOB), workers: WORKERS_PER_BATCH })
							.catch((error: unknown) => {
								samples.fail(error);
								resolve();
							});
					}),
			);
			await within(Promise.all(runs), JOBS_TIMEOUT_MS);
			const elapsed = performance.now() - started;
			const unfinished = batches - samples.latencies.length;
			return {
				scenario: name,
				baseline: "sequential" as const,
				// Throughput in jobs/s; latency is per batch, submit → finished.
				opsPerS: samples.latencies.length > 0 ? ((samples.latencies.length * items) / elapsed) * 1_000 : 0,
				p50Ms: samples.summary(elapsed).p50Ms,
				p99Ms: samples.summary(elapsed).p99Ms,
				errors: samples.errors + unfinished,
				notes: [
					`ops = jobs/s; latency per ${items}-job batch (submit → finished); a batch holds at most ${BATCH_ITEMS} (MAX_BATCH_ITEMS)`,
					samples.errorNote(),
					unfinished > 0 ? `${unfinished} batch(es) unfinished after ${JOBS_TIMEOUT_MS / 1_000} s` : "",
				]
					.filter(Boolean)
					.join("; "),
			};
		});
		ctx.results.push(result);
	} finally {
		await Promise.all(conns.map((c) => c.dispose()));
	}
}
