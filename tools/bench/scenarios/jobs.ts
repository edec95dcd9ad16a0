// Scenario 6: queued work. Jobs/s through one worker's durable workflow
// (each job: queue message, lookup, validate, one compute chunk, store,
// complete; src/actors/jobs/worker.ts says which of them commit), twice:
// as the jobs are sent one at a time, and draining a queue that already
// holds them. Then a coordinator fan-out end to end (submit → every worker
// reports → `finished`).

import { type JobSpec, MAX_HASH_ROUNDS } from "../../../src/actors/jobs/contract.ts";
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

/**
 * Jobs in the drain row, in the quick and the full run alike: sending them
 * (about 3 s here) must end before the blocker in front of them does.
 */
const DRAIN_JOBS = 50;
/** Sends in flight at once while the drain row fills the queue. */
const DRAIN_SEND_LANES = 8;
/** The job that keeps the worker busy while the drain row's queue fills: the longest one allowed (20 chunks). */
const BLOCKER_JOB: JobSpec = { kind: "sha256", input: { text: "blocker", rounds: MAX_HASH_ROUNDS } };

export const workerJobs: Scenario = (ctx) =>
	eachRuntime(ctx, async (side) => {
		await workerJobsOn(ctx, side);
		await workerDrainOn(ctx, side);
	});

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
				notes: "latency = queued → jobFinished; sent one at a time",
				...samples.summary(performance.now() - started),
			};
		});
		ctx.results.push(result);
	} finally {
		await conn.dispose();
	}
}

/**
 * How fast one worker works through jobs that are already queued. Sent one
 * at a time (the row above), the jobs arrive no faster than one actor
 * accepts queue sends, and a worker that keeps up is measured by its
 * sender. Here a long job goes first; the tiny jobs are queued behind it
 * while it runs, and the row counts from the moment the blocker has
 * finished and every job is queued to the last `jobFinished`.
 */
async function workerDrainOn(ctx: BenchContext, side: RuntimeSide): Promise<void> {
	const name = rowName(`worker: ${DRAIN_JOBS} queued jobs drained by 1 worker`, side);
	const key = [`${ctx.runId}-${side.runtime}-drain`];
	const handle = side.client.worker.getOrCreate(key, { params: ctx.auth.serverParams });
	const watcher = side.client.worker.getOrCreate(key, { params: ctx.auth.params });
	const conn = await readyConnection(
		() => watcher.connect(),
		(c) => c.status(),
		"worker connection",
	);
	const blockerId = `${ctx.runId}-${side.runtime}-blocker`;
	const finishedAt = new Map<string, number>();
	const failures: string[] = [];
	let allDone: () => void = () => {};
	const done = new Promise<void>((resolve) => {
		allDone = resolve;
	});
	conn.on("jobFinished", (result) => {
		if (finishedAt.has(result.jobId)) return;
		finishedAt.set(result.jobId, performance.now());
		if (result.status === "failed") failures.push(result.error);
		if (finishedAt.size === DRAIN_JOBS + 1) allDone();
	});
	try {
		const result = await measure(name, side.pids, async (progress) => {
			await handle.send("jobs", { ...BLOCKER_JOB, jobId: blockerId });
			let next = 0;
			const lane = async () => {
				while (next < DRAIN_JOBS) {
					await handle.send("jobs", { ...TINY_JOB, jobId: `${ctx.runId}-${side.runtime}-drain-${next++}` });
				}
			};
			await Promise.all(Array.from({ length: DRAIN_SEND_LANES }, lane));
			const queuedAt = performance.now();
			const ticker = setInterval(() => progress(`${finishedAt.size}/${DRAIN_JOBS + 1} finished`), 500);
			await within(done, JOBS_TIMEOUT_MS);
			clearInterval(ticker);
			const from = Math.max(queuedAt, finishedAt.get(blockerId) ?? queuedAt);
			const times = [...finishedAt].filter(([id]) => id !== blockerId).map(([, t]) => t);
			const drained = times.filter((t) => t > from);
			const end = Math.max(...times);
			return {
				scenario: name,
				baseline: null,
				opsPerS: drained.length > 0 && end > from ? (drained.length / (end - from)) * 1_000 : null,
				p50Ms: null,
				p99Ms: null,
				errors: failures.length,
				notes: [
					`ops = jobs/s from the moment the blocker (${MAX_HASH_ROUNDS.toLocaleString("en")} sha256 rounds) had finished and every job was queued to the last jobFinished; ${drained.length} of ${DRAIN_JOBS} were still queued then`,
					...failures.slice(0, 1).map((e) => `first failure: ${e}`),
				].join("; "),
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
			// When each submit returned: it returns once every job is sent, so
			// this is the part of a batch spent dispatching.
			const submitted: number[] = [];
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
							.then(() => submitted.push(performance.now() - t))
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
					submitted.length > 0
						? `submit (every job sent) returned after ${(median(submitted) / 1_000).toFixed(1)} s (median)`
						: "",
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

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
