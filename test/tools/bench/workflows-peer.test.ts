// The bench's Workflows peer (tools/bench/peer/jobs-workflow.ts) computes
// what the fleet's worker computes, stores each job once, and stops with
// nothing left running. Nothing here is timed: the bench measures, this file
// checks that what it measures is the same work.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeJob, planJob, runChunkTask } from "../../../src/actors/jobs/compute.ts";
import type { JobResult } from "../../../src/actors/jobs/jobs.ts";
import { ResultsWatch, runBatch, sendJob, shareOf, startInstance } from "../../../tools/bench/peer/jobs-scenario.ts";
import type { PeerJob } from "../../../tools/bench/peer/jobs-workflow.ts";
import { type RunningPeer, startPeer } from "../../../tools/bench/peer/peer.ts";

const TEST_TIMEOUT_MS = 120_000;

/** One job of each kind, with more than one chunk where the kind allows it cheaply. */
const JOBS: Array<Omit<PeerJob, "jobId">> = [
	{ kind: "sha256", input: { text: "bench", rounds: 1 } },
	{ kind: "sha256", input: { text: "two chunks", rounds: 60_000 } },
	{ kind: "primes", input: { limit: 150_000 } },
	{ kind: "wordstats", input: { text: "the cat and the hat and the bat" } },
	// planJob refuses it: the job ends `failed`, as on the worker.
	{ kind: "wordstats", input: { text: "!!! ???" } },
];

/** What the fleet's worker would store for `job`: the same pure code, run here in Node. */
async function expected(job: PeerJob): Promise<JobResult> {
	try {
		const { chunks } = planJob(job);
		const result = await computeJob(job, chunks, async (_index, task) => runChunkTask(task));
		return { jobId: job.jobId, status: "done", result };
	} catch (error) {
		return { jobId: job.jobId, status: "failed", error: `validate: ${(error as Error).message}` };
	}
}

async function instanceStatus(peer: RunningPeer, id: string): Promise<string> {
	const res = await fetch(`${peer.url}/jobs/${id}/status`);
	return ((await res.json()) as { status: string }).status;
}

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

describe("the Workflows peer", () => {
	let peer: RunningPeer;
	const run = `t${Date.now().toString(36)}`;

	beforeAll(async () => {
		peer = await startPeer();
	}, TEST_TIMEOUT_MS);

	afterAll(async () => {
		await peer?.stop();
	});

	it(
		"one instance runs each kind of job, one at a time, to the result the worker computes",
		async () => {
			const key = `${run}-seq`;
			const watch = await ResultsWatch.open(peer, key);
			try {
				const jobs = JOBS.map((spec, i) => ({ ...spec, jobId: `${key}-job-${i}` }) as PeerJob);
				await startInstance(peer, key, jobs.length, key);
				await runBatch(peer, watch, [key], jobs, 1);
				for (const job of jobs) {
					expect(watch.results.get(job.jobId)).toEqual(await expected(job));
				}
			} finally {
				watch.close();
			}
		},
		TEST_TIMEOUT_MS,
	);

	it(
		"a batch over several instances stores every job once, and a job id sent again is answered from the stored row",
		async () => {
			const key = `${run}-batch`;
			const instances = [0, 1, 2].map((w) => `${key}-w${w}`);
			const jobs = Array.from({ length: 7 }, (_, i) => ({ ...JOBS[0], jobId: `${key}-job-${i}` }) as PeerJob);
			const watch = await ResultsWatch.open(peer, key);
			try {
				// Instance 0 gets one job more than its share: the first job again, under the same id.
				await Promise.all(
					instances.map((id, w) =>
						startInstance(peer, id, shareOf(jobs.length, instances.length, w) + (w === 0 ? 1 : 0), key),
					),
				);
				await runBatch(peer, watch, instances, jobs, 3);
				expect([...watch.results.keys()].sort()).toEqual(jobs.map((j) => j.jobId).sort());
				const [first] = jobs;
				const [target, other] = instances;
				if (!first || !target || !other) throw new Error("no job or instance");
				const stored = watch.results.get(first.jobId);
				const receivedBefore = watch.received;
				await sendJob(peer, target, first);
				// The instance finishes once it has taken that job: its lookup step found
				// the stored row, so it stored nothing and sent no second jobFinished.
				await expect.poll(() => instanceStatus(peer, target), { timeout: TEST_TIMEOUT_MS / 2 }).toBe("complete");
				// A round trip on the watching socket: any jobFinished sent before has arrived.
				expect(await watch.stored()).toBe(jobs.length);
				expect(watch.results.get(first.jobId)).toEqual(stored);
				expect(watch.received).toBe(receivedBefore);
				// A job the worker's queue would refuse is refused before it reaches an instance.
				const refused = await fetch(`${peer.url}/jobs/${other}/send`, {
					method: "POST",
					body: JSON.stringify({ jobId: "bad id!", kind: "sha256", input: {} }),
				});
				expect(refused.status).toBe(400);
			} finally {
				watch.close();
			}
		},
		TEST_TIMEOUT_MS,
	);

	it("stops with workerd and its host process gone", async () => {
		const { engine, node } = peer.pids;
		await peer.stop();
		await expect.poll(() => processAlive(engine) || processAlive(node)).toBe(false);
	});
});
