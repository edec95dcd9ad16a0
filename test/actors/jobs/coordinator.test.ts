import { describe, expect, test } from "vitest";
import type { BatchStatus, JobSpec, SubmitRequest } from "../../../src/actors/jobs/contract.ts";
import { testClient, uniqueKey } from "../../support.ts";
import { serverParams, signInAs, signInOperator, sleepActor } from "../helpers.ts";
import { naivePrimes, naiveSha256, naiveWordstats } from "./expected.ts";

const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];

/** 24 small jobs of all three kinds, each with its independently computed result. */
function mixedBatch(): Array<{ spec: JobSpec; expected: unknown }> {
	return Array.from({ length: 24 }, (_, i) => {
		if (i % 3 === 0) {
			const limit = 1_000 + i * 500;
			return { spec: { kind: "primes", input: { limit } }, expected: naivePrimes(limit) };
		}
		if (i % 3 === 1) {
			const text = `item ${i}`;
			return { spec: { kind: "sha256", input: { text, rounds: 500 + i } }, expected: naiveSha256(text, 500 + i) };
		}
		const text = Array.from({ length: 30 + i }, (_, w) => WORDS[(w * (i + 1)) % WORDS.length]).join(" ");
		return { spec: { kind: "wordstats", input: { text } }, expected: naiveWordstats(text) };
	});
}

/** A batch id, a signed-in user, and handles for that user and for an operator (who may look at workers). */
async function newBatch(prefix = "batch") {
	const client = testClient();
	const batchId = uniqueKey(prefix);
	const user = await signInAs("submitter");
	const operator = await signInOperator();
	return {
		client,
		batchId,
		user,
		coordinator: client.coordinator.getOrCreate([batchId], { params: user.params }),
		workerAsOperator: (workerId: string) => client.worker.getOrCreate([workerId], { params: operator.params }),
	};
}

describe("coordinator batches", () => {
	test("24 jobs over 4 workers complete with the right results, progress events and a finished event", async () => {
		const { client, batchId, user, workerAsOperator } = await newBatch();
		const conn = client.coordinator.getOrCreate([batchId], { params: user.params }).connect();
		const progress: BatchStatus[] = [];
		const finished: BatchStatus[] = [];
		const order: string[] = [];
		conn.on("progress", (s) => {
			progress.push(s);
			order.push("progress");
		});
		conn.on("finished", (s) => {
			finished.push(s);
			order.push("finished");
		});
		await conn.status();

		const batch = mixedBatch();
		const accepted = await conn.submit({ items: batch.map((b) => b.spec), workers: 4 });
		expect(accepted).toMatchObject({ batchId, state: "running", total: 24, failed: 0 });
		expect(accepted.workers.map((w) => [w.workerId, w.assigned])).toEqual(
			[0, 1, 2, 3].map((n) => [`${batchId}.w${n}`, 6]),
		);

		await expect.poll(() => finished.length, { timeout: 45_000, interval: 200 }).toBe(1);
		const final = finished[0];
		expect(final).toMatchObject({ batchId, state: "done", total: 24, done: 24, failed: 0 });
		expect(final?.workers.every((w) => w.assigned === 6 && w.done === 6 && w.failed === 0)).toBe(true);
		expect(final?.finishedAt).toBeGreaterThanOrEqual(final?.startedAt ?? Number.POSITIVE_INFINITY);

		// Progress events are snapshots of the batch: never going backwards,
		// the last one with every job done, then `finished`. (Not one per job:
		// reports that land together may be told in one snapshot.)
		expect(progress.length).toBeGreaterThan(0);
		const doneCounts = progress.map((s) => s.done);
		expect(doneCounts).toEqual([...doneCounts].sort((a, b) => a - b));
		expect(doneCounts.at(-1)).toBe(24);

		const results = await conn.results();
		expect(results.map((r) => r.result)).toEqual(batch.map((b) => b.expected));
		expect(results.every((r) => r.status === "done" && r.dispatches === 1)).toBe(true);
		// The aggregate a dashboard would show: primes found across the batch.
		const primesFound = results.reduce((n, r) => n + (r.result && "count" in r.result ? r.result.count : 0), 0);
		const expectedPrimes = batch.reduce(
			(n, b) => n + (b.spec.kind === "primes" ? naivePrimes(b.spec.input.limit).count : 0),
			0,
		);
		expect(primesFound).toBe(expectedPrimes);
		// Each worker ran its share once, and its own record of every job matches
		// the coordinator's (a job missing from a worker shows as null here).
		for (const w of final?.workers ?? []) {
			const worker = workerAsOperator(w.workerId);
			const share = results.filter((r) => r.workerId === w.workerId);
			expect(share).toHaveLength(6);
			const stored = await Promise.all(share.map((r) => worker.getJob(r.jobId)));
			expect(stored).toEqual(share.map((r) => ({ jobId: r.jobId, status: "done", result: r.result })));
			expect(await worker.status()).toMatchObject({ completed: 6, failed: 0 });
		}
		expect(await conn.status()).toEqual(final);
		// Nothing followed `finished`, however long the checks above took.
		expect(order.at(-1)).toBe("finished");
		expect(order.filter((e) => e === "finished")).toHaveLength(1);
		await conn.dispose();
	});

	test("a job that fails is counted as failed with its error", async () => {
		const { coordinator } = await newBatch();
		await coordinator.submit({
			items: [
				{ kind: "primes", input: { limit: 100 } },
				{ kind: "wordstats", input: { text: "..." } },
			],
			workers: 2,
		});
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		expect(await coordinator.status()).toMatchObject({ total: 2, done: 1, failed: 1 });
		const [, failed] = await coordinator.results();
		expect(failed).toMatchObject({ status: "failed", error: "validate: wordstats: the text contains no words" });
	});

	test("submitting the same request again returns the batch; a different one is refused", async () => {
		const { coordinator } = await newBatch();
		const request: SubmitRequest = { items: [{ kind: "primes", input: { limit: 10 } }], workers: 1 };
		const first = await coordinator.submit(request);
		const again = await coordinator.submit(request);
		expect(again).toMatchObject({ batchId: first.batchId, total: 1, startedAt: first.startedAt });
		await expect(coordinator.submit({ ...request, workers: 2 })).rejects.toMatchObject({
			code: "batch_already_submitted",
		});
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		expect(await coordinator.results()).toHaveLength(1);
	});

	test("a job stuck past the sweep interval is re-sent exactly once, and runs once", async () => {
		const { client, batchId, coordinator } = await newBatch("stuck");
		// The batch's only worker is busy with two long jobs sent straight to
		// it (with a server token, as only the server may), so the batch's job
		// waits in its queue well past `stuckAfterMs`.
		const worker = client.worker.getOrCreate([`${batchId}.w0`], { params: await serverParams() });
		await worker.send("jobs", { jobId: "blocker-1", kind: "sha256", input: { text: "slow", rounds: 1_000_000 } });
		await worker.send("jobs", { jobId: "blocker-2", kind: "primes", input: { limit: 2_000_000 } });
		await coordinator.submit({
			items: [{ kind: "primes", input: { limit: 1_000 } }],
			workers: 1,
			sweepIntervalMs: 1_000,
			stuckAfterMs: 300,
		});

		// The two blockers run on the compute threads, which yield to everything
		// else on the machine (nice 10): under a loaded CI box they alone took
		// over 30 s once (wasm parity run, load average 14), so the batch gets 45 s.
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 45_000 }).toBe("done");
		const [job] = await coordinator.results();
		// Sent, found stuck, re-sent once; later sweeps saw it still in flight and left it alone.
		expect(job).toMatchObject({ status: "done", dispatches: 2, result: naivePrimes(1_000) });
		expect(await coordinator.status()).toMatchObject({ done: 1, failed: 0 });
		// The worker got the job twice and computed it once (plus the two blockers).
		await expect.poll(() => worker.status(), { timeout: 10_000 }).toMatchObject({ current: null, completed: 3 });
		expect(await worker.getJob(job?.jobId ?? "")).toEqual({ jobId: job?.jobId, status: "done", result: job?.result });
	}, 90_000);
});

describe("coordinator bad input", () => {
	test("bad submit requests are rejected with invalid_input and leave the batch empty", async () => {
		const { coordinator } = await newBatch();
		const ok = { kind: "primes", input: { limit: 10 } } as const;
		const bad: unknown[] = [
			undefined,
			{},
			{ items: [] },
			{ items: Array.from({ length: 201 }, () => ok) },
			{ items: [{ kind: "factor", input: { n: 1 } }] },
			{ items: [{ kind: "primes", input: { limit: 0 } }] },
			{ items: [ok], workers: 0 },
			{ items: [ok], workers: 17 },
			{ items: [ok], sweepIntervalMs: 50 },
			// Below MIN_SWEEP_INTERVAL_MS: a sweep costs a wake-up and a read per batch.
			{ items: [ok], sweepIntervalMs: 999 },
			{ items: [ok], stuckAfterMs: 10 },
			{ items: [ok], extra: 1 },
		];
		for (const request of bad) {
			await expect(coordinator.submit(request as SubmitRequest)).rejects.toMatchObject({
				group: "user",
				code: "invalid_input",
			});
		}
		expect(await coordinator.status()).toMatchObject({ state: "empty", total: 0, workers: [] });
		expect(await coordinator.results()).toEqual([]);
	});

	test("a batch id that cannot name workers is refused", async () => {
		const { params } = await signInAs();
		const coordinator = testClient().coordinator.getOrCreate(["not a batch id!"], { params });
		await expect(coordinator.submit({ items: [{ kind: "primes", input: { limit: 10 } }] })).rejects.toMatchObject({
			code: "invalid_batch_id",
		});
		expect(await coordinator.status()).toMatchObject({ state: "empty" });
	});

	test("clients cannot report results or call the sweep, even with a server token and a job id of the batch", async () => {
		const { client, batchId, coordinator } = await newBatch();
		const report = { jobId: "x:0", workerId: "x.w0", status: "done", result: { count: 1, largest: 2 } } as const;
		await expect(coordinator.reportResult({ ...report, secret: "guess-guess-guess" })).rejects.toMatchObject({
			code: "forbidden",
		});

		await coordinator.submit({ items: [{ kind: "primes", input: { limit: 30 } }], workers: 1 });
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		const before = await coordinator.results();
		const forged = { ...report, jobId: before[0]?.jobId ?? "", workerId: `${batchId}.w0`, secret: "a-guessed-secret" };
		// A signed-in user is not the server.
		await expect(coordinator.reportResult(forged)).rejects.toMatchObject({ code: "forbidden" });
		// The server's token without the batch's secret is not a worker of this batch either.
		const asServer = client.coordinator.getOrCreate([batchId], { params: await serverParams() });
		await expect(asServer.reportResult(forged)).rejects.toMatchObject({ code: "forbidden" });
		await expect(asServer.reportResult({ ...forged, secret: undefined } as never)).rejects.toMatchObject({
			code: "invalid_input",
		});
		await expect(coordinator.sweep("guess")).rejects.toMatchObject({ code: "forbidden" });
		expect(await coordinator.results()).toEqual(before);
		expect(before[0]?.result).toEqual(naivePrimes(30));
	});

	test("a result planted on a worker before the batch existed is never taken for one of its jobs", async () => {
		const { client, batchId, coordinator } = await newBatch("plant");
		// Clients cannot enqueue to a worker at all ...
		const { params } = await signInAs("attacker");
		const asUser = client.worker.getOrCreate([`${batchId}.w0`], { params });
		const planted = { jobId: `${batchId}:0`, kind: "primes", input: { limit: 10 } } as const;
		await expect(asUser.send("jobs", planted)).rejects.toMatchObject({ code: "forbidden" });
		// ... and even a row stored under the old, guessable job id (here by the
		// server itself) cannot answer: job ids carry a random run id.
		const asServer = client.worker.getOrCreate([`${batchId}.w0`], { params: await serverParams() });
		await asServer.send("jobs", planted, { wait: true, timeout: 30_000 });
		await coordinator.submit({ items: [{ kind: "primes", input: { limit: 1_000 } }], workers: 1 });
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		const [job] = await coordinator.results();
		expect(job?.jobId).toMatch(new RegExp(`^${batchId}:[A-Za-z0-9_-]{12}:0$`));
		expect(job?.result).toEqual(naivePrimes(1_000));
	});

	test("two users submitting a new batch at once: one owns it, the other is refused", async () => {
		const { client, batchId, coordinator } = await newBatch("race");
		const rival = client.coordinator.getOrCreate([batchId], { params: (await signInAs("rival")).params });
		const request: SubmitRequest = { items: [{ kind: "primes", input: { limit: 100 } }], workers: 1 };
		const outcomes = await Promise.allSettled([coordinator.submit(request), rival.submit(request)]);
		const won = outcomes.filter((o) => o.status === "fulfilled");
		const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as { code?: string }] : []));
		expect(won).toHaveLength(1);
		expect(lost.map((e) => e.code)).toEqual(["forbidden"]);
		// The loser cannot read the winner's batch; the winner sees one job.
		const winner = outcomes[0]?.status === "fulfilled" ? coordinator : rival;
		const loser = winner === coordinator ? rival : coordinator;
		await expect.poll(() => winner.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		expect(await winner.results()).toHaveLength(1);
		await expect(loser.results()).rejects.toMatchObject({ code: "forbidden" });
	});

	test("two submits of one user at once: one starts the batch, the other gets submit_in_progress or its status", async () => {
		const { coordinator } = await newBatch("twice");
		const request: SubmitRequest = { items: [{ kind: "primes", input: { limit: 100 } }], workers: 1 };
		const outcomes = await Promise.allSettled([coordinator.submit(request), coordinator.submit(request)]);
		expect(outcomes.filter((o) => o.status === "fulfilled").length).toBeGreaterThanOrEqual(1);
		for (const o of outcomes) {
			if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "submit_in_progress" });
		}
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		expect(await coordinator.results()).toHaveLength(1);
	});
});

describe("coordinator persistence", () => {
	test("status and results survive the actor sleeping", async () => {
		const { coordinator } = await newBatch();
		await coordinator.submit({
			items: [
				{ kind: "sha256", input: { text: "persist", rounds: 10 } },
				{ kind: "primes", input: { limit: 500 } },
			],
			workers: 2,
		});
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 20_000 }).toBe("done");
		const status = await coordinator.status();
		const results = await coordinator.results();

		await sleepActor(await coordinator.resolve());

		expect(await coordinator.status()).toEqual(status);
		expect(await coordinator.results()).toEqual(results);
		expect(results.map((r) => r.result)).toEqual([naiveSha256("persist", 10), naivePrimes(500)]);
	});

	test("a running batch survives the coordinator sleeping: it wakes with its sweep armed and finishes", async () => {
		// Waking a running batch reads its pending sweep back (`schedule.get`
		// in onWake), which threw on the wasm runtime until
		// src/workarounds/wasm-schedule.ts; the wasm parity run
		// includes this file. The batch's only worker is busy with long jobs
		// sent straight to it, so the batch is still running while the
		// coordinator sleeps.
		const { client, batchId, coordinator } = await newBatch("asleep");
		const worker = client.worker.getOrCreate([`${batchId}.w0`], { params: await serverParams() });
		for (const n of [1, 2]) {
			await worker.send("jobs", { jobId: `blocker-${n}`, kind: "sha256", input: { text: "slow", rounds: 1_000_000 } });
		}
		await coordinator.submit({
			items: [{ kind: "primes", input: { limit: 1_000 } }],
			workers: 1,
			sweepIntervalMs: 60_000,
		});

		await sleepActor(await coordinator.resolve());

		// The call wakes it; a failed onWake would leave it unable to answer.
		expect((await coordinator.status()).total).toBe(1);
		await expect.poll(() => coordinator.status().then((s) => s.state), { timeout: 60_000 }).toBe("done");
		expect(await coordinator.results()).toEqual([
			expect.objectContaining({ status: "done", result: naivePrimes(1_000) }),
		]);
	});
});
