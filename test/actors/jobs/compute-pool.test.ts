// Job computation runs on worker threads (src/actors/jobs/compute-pool.ts),
// not on the event loop every actor of the server shares. While two workers
// each grind through a second-long job, a counter on the same server keeps
// answering; the test prints its p99 next to an idle p99 (figures only:
// wall-clock time is never asserted on a shared machine).

import { expect, test } from "vitest";
import { COMPUTE_POOL_SIZE } from "../../../src/actors/jobs/compute-pool.ts";
import { MAX_HASH_ROUNDS } from "../../../src/actors/jobs/contract.ts";
import { testClient, uniqueKey } from "../../support.ts";
import { serverParams, signInAs } from "../helpers.ts";
import { naiveSha256 } from "./expected.ts";

/** Counter calls timed before and during the heavy jobs. */
const CALLS = 40;

function p99(samples: number[]): number {
	const sorted = [...samples].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

async function timedCalls(call: () => Promise<unknown>, count: number): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < count; i++) {
		const started = performance.now();
		await call();
		times.push(performance.now() - started);
	}
	return times;
}

test(`counters keep answering while ${COMPUTE_POOL_SIZE} workers run maximal sha256 jobs on the compute pool`, async () => {
	const client = testClient();
	const user = await signInAs("bystander");
	const counter = client.counter.getOrCreate([uniqueKey("bystander")], { params: user.params });
	await counter.increment(1);
	const idle = await timedCalls(() => counter.getCount(), CALLS);

	const server = await serverParams();
	const job = { kind: "sha256", input: { text: "heavy", rounds: MAX_HASH_ROUNDS } } as const;
	const workers = Array.from({ length: COMPUTE_POOL_SIZE }, () =>
		client.worker.getOrCreate([uniqueKey("heavy")], { params: server }),
	);
	const jobs = workers.map((w, i) => w.send("jobs", { ...job, jobId: `heavy-${i}` }, { wait: true, timeout: 120_000 }));
	// Wait until a job is in flight before timing the bystander.
	await expect.poll(() => workers[0]?.status().then((s) => s.current !== null)).toBe(true);
	const during = await timedCalls(() => counter.increment(1), CALLS);
	const replies = await Promise.all(jobs);

	console.log(
		`compute pool: counter p99 ${p99(during).toFixed(1)} ms while ${COMPUTE_POOL_SIZE} workers ran ${MAX_HASH_ROUNDS} sha256 rounds each, vs ${p99(idle).toFixed(1)} ms idle`,
	);
	const expected = naiveSha256("heavy", MAX_HASH_ROUNDS);
	for (const [i, reply] of replies.entries()) {
		expect(reply.response).toEqual({ jobId: `heavy-${i}`, status: "done", result: expected });
	}
	expect(await counter.getCount()).toBe(1 + CALLS);
});
