// The bench's Workflows peer group: the worker and coordinator rows' jobs
// (scenarios/jobs.ts: same kind, same input, same counts) run as Cloudflare
// Workflows in Miniflare (jobs-workflow.ts), in the same run, right after the
// fleet's job rows. Each row's "engine CPU s" is workerd's (which runs the
// Workflows engine, the instances and the results objects) and "node CPU s"
// is the Miniflare host process's.
//
// - One instance takes the worker row's jobs, sent one after another as the
//   worker's are queued; latency = sent → `jobFinished`, as for the worker.
// - A batch: the coordinator row's jobs over 16 instances, round robin, sent
//   with the coordinator's dispatch concurrency; every instance stores into
//   the batch's one results object (the coordinator's table of the batch);
//   latency = first send → the batch's last `jobFinished`. The full run sends
//   its batches at once, as the coordinator row submits its batches at once.

import { DISPATCH_CONCURRENCY } from "../../../src/actors/jobs/batch.ts";
import type { JobResult } from "../../../src/actors/jobs/jobs.ts";
import type { Scenario } from "../lib/context.ts";
import { log, measure, Samples, within } from "../lib/measure.ts";
import { coordinatorBatches, JOBS_TIMEOUT_MS, TINY_JOB, WORKERS_PER_BATCH, workerJobCount } from "../scenarios/jobs.ts";
import type { PeerJob, ResultsCount } from "./jobs-workflow.ts";
import { PeerSocket, type RunningPeer, startPeer } from "./peer.ts";

/** Row names, which compare.ts pairs with the fleet's job rows. */
export const WORKFLOW_PEER_ROWS = {
	sequentialPrefix: "peer: Workflow, ",
	sequential: (count: number) => `peer: Workflow, ${count} jobs to 1 instance`,
	fanOutPrefix: "peer: Workflows, ",
	fanOut: (total: number, batches: number) =>
		`peer: Workflows, ${total} jobs, ${batches}×${WORKERS_PER_BATCH} instances`,
} as const;

async function post(peer: RunningPeer, path: string, body: unknown): Promise<void> {
	const res = await fetch(`${peer.url}${path}`, { method: "POST", body: JSON.stringify(body) });
	if (!res.ok) throw new Error(`the Workflows peer answered ${res.status} to ${path}: ${await res.text()}`);
}

/**
 * The jobs stored in one results object, as they arrive: `wait(jobIds)`
 * resolves once each of them has a `jobFinished`.
 */
export class ResultsWatch {
	readonly results = new Map<string, JobResult>();
	/** Every `jobFinished` received, a job's repeats included. */
	received = 0;
	readonly #socket: PeerSocket;
	#waiters: Array<() => void> = [];
	onResult: ((result: JobResult) => void) | null = null;

	private constructor(socket: PeerSocket) {
		this.#socket = socket;
		socket.onEvent = (e) => {
			if (e.event !== "jobFinished") return;
			const result = e.message as JobResult;
			this.received++;
			if (this.results.has(result.jobId)) return;
			this.results.set(result.jobId, result);
			this.onResult?.(result);
			for (const wake of this.#waiters) wake();
		};
	}

	static async open(peer: RunningPeer, resultsKey: string): Promise<ResultsWatch> {
		return new ResultsWatch(await PeerSocket.open(`${peer.url.replace(/^http/, "ws")}/results/${resultsKey}/ws`));
	}

	/** Resolves once every one of `jobIds` has a result here. */
	wait(jobIds: string[]): Promise<void> {
		return new Promise((resolve) => {
			const check = () => {
				if (!jobIds.every((id) => this.results.has(id))) return;
				this.#waiters = this.#waiters.filter((w) => w !== check);
				resolve();
			};
			this.#waiters.push(check);
			check();
		});
	}

	/** How many jobs the results object stores; answered after every `jobFinished` it sent before. */
	async stored(): Promise<number> {
		return ((await this.#socket.call({})) as ResultsCount).stored;
	}

	close(): void {
		this.#socket.close();
	}
}

/** Creates Workflow instance `id`, which takes `jobs` jobs and stores them in results object `resultsKey`. */
export function startInstance(peer: RunningPeer, id: string, jobs: number, resultsKey: string): Promise<void> {
	return post(peer, `/jobs/${id}/start`, { jobs, results: resultsKey });
}

/** Hands instance `id` one job (`instance.sendEvent`). */
export function sendJob(peer: RunningPeer, id: string, job: PeerJob): Promise<void> {
	return post(peer, `/jobs/${id}/send`, job);
}

/** Runs `jobs` through `instances` (job i to instance i mod n, `concurrency` sends at once) and waits for them. */
export async function runBatch(
	peer: RunningPeer,
	watch: ResultsWatch,
	instances: string[],
	jobs: PeerJob[],
	concurrency: number,
): Promise<void> {
	let next = 0;
	const lane = async () => {
		while (next < jobs.length) {
			const i = next++;
			const job = jobs[i];
			const instance = instances[i % instances.length];
			if (job && instance) await sendJob(peer, instance, job);
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
	await watch.wait(jobs.map((j) => j.jobId));
}

/** How many of `total` jobs, dealt round robin over `instances`, instance `index` gets. */
export function shareOf(total: number, instances: number, index: number): number {
	return Math.floor(total / instances) + (index < total % instances ? 1 : 0);
}

export const workflowsPeer: Scenario = async (ctx) => {
	log("  starting the Workflows peer (Miniflare)…");
	const peer = await startPeer();
	const job = (id: string): PeerJob => ({ ...TINY_JOB, jobId: id });
	try {
		// Warm-up, outside every row: workerd loads the Workflows engine and the modules on first use.
		const warm = await ResultsWatch.open(peer, `${ctx.runId}-wf-warm`);
		try {
			await startInstance(peer, `${ctx.runId}-wf-warm`, 1, `${ctx.runId}-wf-warm`);
			await runBatch(peer, warm, [`${ctx.runId}-wf-warm`], [job(`${ctx.runId}-wf-warm-job`)], 1);
		} finally {
			warm.close();
		}

		// One instance, the worker row's jobs one after another.
		const count = workerJobCount(ctx);
		const seqName = WORKFLOW_PEER_ROWS.sequential(count);
		const seqKey = `${ctx.runId}-wf-seq`;
		const seqWatch = await ResultsWatch.open(peer, seqKey);
		try {
			await startInstance(peer, seqKey, count, seqKey);
			const result = await measure(seqName, peer.pids, async (progress) => {
				const samples = new Samples();
				const sentAt = new Map<string, number>();
				seqWatch.onResult = (r) => {
					const t = sentAt.get(r.jobId);
					if (t === undefined) return;
					if (r.status === "done") samples.ok(performance.now() - t);
					else samples.fail(new Error(r.error));
					progress(`${seqWatch.results.size}/${count} finished`);
				};
				const jobs = Array.from({ length: count }, (_, i) => job(`${seqKey}-job-${i}`));
				const started = performance.now();
				for (const j of jobs) {
					sentAt.set(j.jobId, performance.now());
					await sendJob(peer, seqKey, j);
				}
				await within(seqWatch.wait(jobs.map((j) => j.jobId)), JOBS_TIMEOUT_MS);
				samples.errors += count - seqWatch.results.size;
				return {
					scenario: seqName,
					baseline: "sequential" as const,
					notes:
						"Workflow instance: wait for event, lookup, validate, 1 chunk, store per job; latency = sent → jobFinished; engine CPU = workerd",
					...samples.summary(performance.now() - started),
				};
			});
			ctx.results.push(result);
		} finally {
			seqWatch.close();
		}

		// The coordinator row's batches, each over 16 instances.
		const { batches, items } = coordinatorBatches(ctx);
		const fanName = WORKFLOW_PEER_ROWS.fanOut(batches * items, batches);
		const keys = Array.from({ length: batches }, (_, b) => `${ctx.runId}-wf-b${b}`);
		const watches = await Promise.all(keys.map((key) => ResultsWatch.open(peer, key)));
		try {
			const result = await measure(fanName, peer.pids, async (progress) => {
				const samples = new Samples();
				const started = performance.now();
				const ticker = setInterval(
					() => progress(`${watches.reduce((n, w) => n + w.results.size, 0)}/${batches * items} finished`),
					500,
				);
				const runs = keys.map(async (key, b) => {
					const watch = watches[b];
					if (!watch) return;
					const t = performance.now();
					try {
						const instances = Array.from({ length: WORKERS_PER_BATCH }, (_, w) => `${key}-w${w}`);
						await Promise.all(
							instances.map((id, w) => startInstance(peer, id, shareOf(items, WORKERS_PER_BATCH, w), key)),
						);
						const jobs = Array.from({ length: items }, (_, i) => job(`${key}-job-${i}`));
						await runBatch(peer, watch, instances, jobs, DISPATCH_CONCURRENCY);
						samples.ok(performance.now() - t);
						for (const r of watch.results.values()) if (r.status === "failed") samples.fail(new Error(r.error));
					} catch (error) {
						samples.fail(error);
					}
				});
				await within(Promise.all(runs), JOBS_TIMEOUT_MS);
				clearInterval(ticker);
				const elapsed = performance.now() - started;
				const summary = samples.summary(elapsed);
				const unfinished = batches - samples.latencies.length;
				return {
					scenario: fanName,
					baseline: "sequential" as const,
					opsPerS: samples.latencies.length > 0 ? ((samples.latencies.length * items) / elapsed) * 1_000 : 0,
					p50Ms: summary.p50Ms,
					p99Ms: summary.p99Ms,
					errors: samples.errors + unfinished,
					notes: [
						`ops = jobs/s; latency per ${items}-job batch (first send → last jobFinished); engine CPU = workerd`,
						samples.errorNote(),
						unfinished > 0 ? `${unfinished} batch(es) unfinished after ${JOBS_TIMEOUT_MS / 1_000} s` : "",
					]
						.filter(Boolean)
						.join("; "),
				};
			});
			ctx.results.push(result);
		} finally {
			for (const w of watches) w.close();
		}
	} finally {
		await peer.stop();
		log("  stopped the Workflows peer");
	}
};
