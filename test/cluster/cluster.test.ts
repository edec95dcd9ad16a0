// The multi-node deployment, broken on purpose: two engine nodes on
// PostgreSQL + NATS, two app servers, nginx in front of each pair (see
// tools/local/cluster.ts). The app servers serve the tests' fixture actors
// (test/fixtures/), so the suite passes whichever actors the product has.
// The tests run in order on one cluster, because each
// leaves it in the state the next one starts from: all members up again.
//
// Timings are measured and printed, never asserted: they depend on the
// machine. What is asserted is what a user would notice: writes lost or
// applied twice, actors that do not come back, processes left behind.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createClient } from "rivetkit/client";
import { afterAll, beforeAll, beforeEach, describe, expect, onTestFailed, test } from "vitest";
import { callIdempotent, type RetryOptions } from "../../tools/client/retry.ts";
import { type Cluster, NODE_NAMES, type NodeName, startCluster } from "../../tools/local/cluster.ts";
import { isAlive } from "../../tools/local/daemon.ts";
import { processesMentioning } from "../../tools/local/hygiene.ts";
import { FIXTURE_SERVER_ENTRY } from "../fixtures/entry.ts";
import type { FixtureRegistry } from "../fixtures/registry.ts";
import { uniqueKey } from "../support.ts";
import { startWriteLoad } from "./write-load.ts";

/** Tallies written to concurrently while the lease holder is killed. */
const LOAD_WRITERS = 4;
/** Acknowledged writes per tally before the kill, and after recovery. */
const WRITES_BEFORE_KILL = 10;
const WRITES_AFTER_RECOVERY = 5;
/** Tallies hosted on the app server that gets killed. */
const APP_FAILOVER_TALLIES = 3;
/** The schedule each of those arms; still pending when the app server dies. */
const SCHEDULED_AMOUNT = 7;
const SCHEDULE_DELAY_MS = 5_000;
/** Rows in the notebook hosted on the app server that gets killed. */
const NOTES = ["first", "second", "third"];
/** The pipeline's task: 20 workflow steps of 250 ms, 5 s in all. */
const TASK = { taskId: "cluster-task", stages: 20, stageMs: 250 };
/** What the task's result must be when each stage ran exactly once. */
const TASK_TOTAL = (TASK.stages * (TASK.stages + 1)) / 2;
/** How long a single read may take while an app server is being replaced. */
const READ_TIMEOUT_MS = 2_000;
/** Generous bounds for polls; failing them means "did not recover at all". */
const RECOVERY_POLL_TIMEOUT_MS = 90_000;
const POLL_INTERVAL_MS = 100;

/**
 * Every call goes through the project's retrying client, as a real caller's
 * would: the engine occasionally holds a request for seconds (a new actor's
 * workflow waiting to be picked up, a node going away), and what these tests
 * check is what survives that, not that no request ever has to be repeated.
 */
const RETRY: RetryOptions = { attemptTimeoutMs: 5_000, deadlineMs: 60_000 };

type Client = ReturnType<typeof createClient<FixtureRegistry>>;

/** A write, with one idempotency key for all its attempts. */
function write<T>(call: (requestId: string, signal: AbortSignal) => Promise<T>, requestId?: string): Promise<T> {
	return callIdempotent(({ requestId, signal }) => call(requestId, signal), {
		...RETRY,
		...(requestId ? { requestId } : {}),
	});
}

/** A read: safe to repeat as it is. */
function read<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
	return callIdempotent(({ signal }) => call(signal), RETRY);
}

/** What the tests measured, for the summary line. */
const figures = {
	writes: 0,
	lost: 0,
	duplicated: 0,
	retries: 0,
	leaseFailoverS: Number.NaN,
	writeStallS: Number.NaN,
	actorRecoveryS: Number.NaN,
	appFailoverS: Number.NaN,
};

let cluster: Cluster;
const clients: Client[] = [];

function clientFor(endpoint: string): Client {
	// The cluster's engines require their admin token on the management API,
	// which rivetkit's `handle.get(key)` resolves through (`getOrCreate` goes
	// through the gateway and needs none). This test reads with `get`, as an
	// operator would.
	const client = createClient<FixtureRegistry>({ endpoint, token: cluster.adminToken });
	clients.push(client);
	return client;
}

const other = (node: NodeName): NodeName => (node === "a" ? "b" : "a");
const seconds = (ms: number) => Math.round(ms / 100) / 10;

beforeAll(async () => {
	cluster = await startCluster({ entry: FIXTURE_SERVER_ENTRY });
});

/** Lines of each member's log a failed test prints: the cluster's folder, logs included, goes when it stops. */
const LOG_TAIL_LINES = 60;
const MEMBER_LOGS = ["app-a.log", "app-b.log", "engine-a/engine.log", "engine-b/engine.log"];

beforeEach(() => {
	onTestFailed(() => {
		for (const log of MEMBER_LOGS) {
			if (!existsSync(path.join(cluster.dir, log))) continue;
			const lines = readFileSync(path.join(cluster.dir, log), "utf8").trimEnd().split("\n").slice(-LOG_TAIL_LINES);
			console.log(`--- the last ${lines.length} lines of ${log}\n${lines.join("\n")}`);
		}
	});
});

afterAll(async () => {
	await Promise.all(clients.map((c) => c.dispose()));
	// Normally already stopped by the last test; this covers a failure before it.
	await cluster?.stop();
});

describe.sequential("a two-node engine cluster behind nginx", () => {
	test("an actor created through engine node A answers through node B with the same state", async () => {
		const key = [uniqueKey("across-nodes")];
		const viaA = clientFor(cluster.engines.a.url).tally;
		const viaB = clientFor(cluster.engines.b.url).tally;

		expect(await write((id, signal) => viaA.getOrCreate(key, { signal }).increment(5, { requestId: id }))).toBe(5);
		expect(await read((signal) => viaB.get(key, { signal }).getCount())).toBe(5);
		expect(await write((id, signal) => viaB.get(key, { signal }).increment(2, { requestId: id }))).toBe(7);
		expect(await read((signal) => viaA.get(key, { signal }).getCount())).toBe(7);
		// One actor, not two that happen to agree.
		const idViaA = await read((signal) => viaA.get(key, { signal }).resolve());
		expect(await read((signal) => viaB.get(key, { signal }).resolve())).toBe(idViaA);
	});

	test("kill -9 of the engine node holding the lease loses no acknowledged write and applies none twice", async () => {
		const client = clientFor(cluster.engineUrl);
		const keys = Array.from({ length: LOAD_WRITERS }, (_, i) => uniqueKey(`lease-${i}`));
		const load = startWriteLoad(client, keys);
		await expect
			.poll(() => load.fewestAcks(), { timeout: RECOVERY_POLL_TIMEOUT_MS, interval: POLL_INTERVAL_MS })
			.toBeGreaterThanOrEqual(WRITES_BEFORE_KILL);

		const holder = await cluster.leaseHolder();
		if (!holder) throw new Error("no engine node holds the lease");
		const survivor = other(holder);
		const killedAt = Date.now();
		await cluster.engines[holder].kill();

		let leaseMovedAt = 0;
		await expect
			.poll(
				async () => {
					const now = await cluster.leaseHolder();
					if (now === survivor && leaseMovedAt === 0) leaseMovedAt = Date.now();
					return now;
				},
				{ timeout: RECOVERY_POLL_TIMEOUT_MS, interval: POLL_INTERVAL_MS },
			)
			.toBe(survivor);
		await expect
			.poll(() => load.waitingSince(killedAt, WRITES_AFTER_RECOVERY), {
				timeout: RECOVERY_POLL_TIMEOUT_MS,
				interval: POLL_INTERVAL_MS,
			})
			.toEqual([]);
		await load.stop();

		expect(load.failures).toEqual([]);
		const reader = clientFor(cluster.engines[survivor].url).tally;
		for (const key of keys) {
			const values = load.acksFor(key).map((a) => a.value);
			const count = await read((signal) => reader.get([key], { signal }).getCount());
			figures.lost += Math.max(0, values.length - count);
			figures.duplicated += Math.max(0, count - values.length);
			// Acknowledged values 1..n in order: none skipped (applied twice), none missing.
			expect(values).toEqual(values.map((_, i) => i + 1));
			expect(count).toBe(values.length);
		}

		// Recovery per tally: from the kill to its first acknowledged write sent after it.
		const recoveries = keys.map((key) => {
			const first = load.acksFor(key).find((a) => a.startedAt > killedAt);
			return (first?.ackedAt ?? Number.NaN) - killedAt;
		});
		// The longest wait any writer saw between two acknowledgements.
		const stalls = keys.map((key) => {
			const times = load.acksFor(key).map((a) => a.ackedAt);
			return Math.max(...times.slice(1).map((t, i) => t - (times[i] ?? t)));
		});
		figures.writes += load.acks.length;
		figures.retries += load.retries();
		figures.leaseFailoverS = seconds(leaseMovedAt - killedAt);
		figures.actorRecoveryS = seconds(Math.max(...recoveries));
		figures.writeStallS = seconds(Math.max(...stalls));
		console.log(
			`lease holder engine-${holder} killed: lease on engine-${survivor} after ${figures.leaseFailoverS} s; ` +
				`every tally acknowledged a new write after ${figures.actorRecoveryS} s ` +
				`(first: ${seconds(Math.min(...recoveries))} s); longest stall ${figures.writeStallS} s; ` +
				`${load.acks.length} writes, ${load.retries()} retried attempts`,
		);
	});

	test("a killed engine node restarted rejoins and serves again", async () => {
		const down = NODE_NAMES.find((n) => !cluster.engines[n].running);
		if (!down) throw new Error("the previous test left no engine node down");
		await cluster.engines[down].start();

		const key = [uniqueKey("rejoined")];
		const viaRestarted = clientFor(cluster.engines[down].url).tally;
		const viaOther = clientFor(cluster.engines[other(down)].url).tally;
		expect(await write((id, signal) => viaRestarted.getOrCreate(key, { signal }).increment(3, { requestId: id }))).toBe(
			3,
		);
		expect(await write((id, signal) => viaOther.get(key, { signal }).increment(4, { requestId: id }))).toBe(7);
		expect(await read((signal) => viaRestarted.get(key, { signal }).getCount())).toBe(7);
	});

	test("kill -9 of an app server: its actors come back on the other with state, SQLite rows, schedules and a workflow", async () => {
		const client = clientFor(cluster.engineUrl);
		// Only app server A runs while the actors start, so they all live on A.
		await cluster.apps.b.stop();

		// A notebook, whose notes are SQLite rows.
		const notebookKey = [uniqueKey("app-notebook")];
		const notebook = (signal: AbortSignal) =>
			client.notebook.getOrCreate(notebookKey, { params: { author: "alice" }, signal });
		for (const text of NOTES) await write((id, signal) => notebook(signal).write(text, { requestId: id }));
		// A pipeline, woken now so that it lives on A; its task is sent once B is up.
		const pipelineKey = [uniqueKey("app-pipeline")];
		const pipeline = (signal: AbortSignal) => client.pipeline.getOrCreate(pipelineKey, { signal });
		await read((signal) => pipeline(signal).status());
		// Tallies, each with a schedule that is still pending when A dies.
		const keys = Array.from({ length: APP_FAILOVER_TALLIES }, (_, i) => uniqueKey(`app-${i}`));
		for (const [i, key] of keys.entries()) {
			const first = await write(
				(id, signal) => client.tally.getOrCreate([key], { signal }).increment(i + 1, { requestId: id }),
				`${key}-first`,
			);
			expect(first).toBe(i + 1);
			// Not idempotent (each call arms one more timer), so called once, on the
			// actor the write above has just started.
			await client.tally.get([key]).incrementLater(SCHEDULED_AMOUNT, SCHEDULE_DELAY_MS);
		}
		await cluster.apps.b.start();

		// The task's workflow is part-way through its steps when A dies. Sending it
		// again is harmless: the pipeline runs each taskId once.
		await write((_, signal) => pipeline(signal).send("tasks", TASK));
		await expect
			.poll(() => read((signal) => pipeline(signal).status()).then((s) => s.current?.done ?? 0), {
				timeout: RECOVERY_POLL_TIMEOUT_MS,
				interval: POLL_INTERVAL_MS,
			})
			.toBeGreaterThanOrEqual(1);
		const killedAt = Date.now();
		await cluster.apps.a.kill();

		// Every actor A hosted answers again (each probe wakes its actor on B).
		const probes: Record<string, (signal: AbortSignal) => Promise<unknown>> = {
			notebook: (signal) => notebook(signal).list(),
			pipeline: (signal) => pipeline(signal).status(),
			...Object.fromEntries(
				keys.map((key) => [key, (signal: AbortSignal) => client.tally.get([key], { signal }).getCount()]),
			),
		};
		const answeredAt = await firstAnswers(probes);
		figures.appFailoverS = seconds(Math.max(...answeredAt.values()) - killedAt);

		// The notebook's rows are all there, once each.
		const notes = await read((signal) => notebook(signal).list());
		expect(notes.map((n) => n.text)).toEqual(NOTES);
		// The workflow resumed on B and finished the task once, each stage counted once.
		await expect
			.poll(() => read((signal) => pipeline(signal).getTask(TASK.taskId)), {
				timeout: RECOVERY_POLL_TIMEOUT_MS,
				interval: POLL_INTERVAL_MS,
			})
			.toEqual({ taskId: TASK.taskId, total: TASK_TOTAL });
		expect(await read((signal) => pipeline(signal).status())).toEqual({ current: null, finished: 1 });
		for (const [i, key] of keys.entries()) {
			const tally = (signal: AbortSignal) => client.tally.get([key], { signal });
			// State survived, and the schedule armed on A fired once, on B.
			await expect
				.poll(() => read((signal) => tally(signal).getCount()), {
					timeout: RECOVERY_POLL_TIMEOUT_MS,
					interval: POLL_INTERVAL_MS,
				})
				.toBe(i + 1 + SCHEDULED_AMOUNT);
			expect(await read((signal) => tally(signal).listTimers())).toEqual([]);
			// The first write's key is still remembered: a late retry applies nothing.
			const retried = await write((id, signal) => tally(signal).increment(i + 1, { requestId: id }), `${key}-first`);
			expect(retried).toBe(i + 1);
			expect(await read((signal) => tally(signal).getCount())).toBe(i + 1 + SCHEDULED_AMOUNT);
		}
		const each = [...answeredAt].map(
			([name, at]) => `${name.replace(/-[0-9a-f]{8}$/, "")} ${seconds(at - killedAt)} s`,
		);
		console.log(
			`app server A killed: all ${answeredAt.size} of its actors (a notebook, a pipeline mid-task, ` +
				`${keys.length} tallies) answered on B after ${figures.appFailoverS} s (${each.join(", ")})`,
		);
	});

	test("a killed app server restarted rejoins and serves again", async () => {
		await cluster.apps.a.start();
		// With B stopped, whatever answers was started on the restarted A.
		await cluster.apps.b.stop();
		const key = [uniqueKey("app-rejoined")];
		const tally = (signal: AbortSignal) => clientFor(cluster.engineUrl).tally.getOrCreate(key, { signal });
		expect(await write((id, signal) => tally(signal).increment(2, { requestId: id }))).toBe(2);
		expect(await read((signal) => tally(signal).getCount())).toBe(2);
		await cluster.apps.b.start();
	});

	test("stopping the cluster leaves no PostgreSQL, NATS, nginx, engine or app process behind", async () => {
		const dir = cluster.dir;
		const pids = [...cluster.pids(), ...cluster.pids().flatMap(descendants)];
		expect(pids.length).toBeGreaterThanOrEqual(7);
		await cluster.stop();
		expect(pids.filter(isAlive)).toEqual([]);
		// Every server's command line names the cluster's folder (configs, data dirs).
		expect(processesMentioning(dir)).toEqual([]);

		console.log(
			`cluster: 2 engine nodes, 2 app servers, ${figures.writes} writes, ${figures.lost} lost, ` +
				`${figures.duplicated} duplicated, lease failover ${figures.leaseFailoverS} s, ` +
				`actor recovery ${figures.actorRecoveryS} s, app server failover ${figures.appFailoverS} s`,
		);
	});
});

/** When each probe first answered (polled until all have), by name. */
async function firstAnswers(probes: Record<string, (signal: AbortSignal) => Promise<unknown>>) {
	const answeredAt = new Map<string, number>();
	const pending = () => Object.entries(probes).filter(([name]) => !answeredAt.has(name));
	await expect
		.poll(
			async () => {
				await Promise.all(
					pending().map(async ([name, probe]) => {
						try {
							await probe(AbortSignal.timeout(READ_TIMEOUT_MS));
							answeredAt.set(name, Date.now());
						} catch {
							// Not back yet.
						}
					}),
				);
				return pending().length;
			},
			{ timeout: RECOVERY_POLL_TIMEOUT_MS, interval: POLL_INTERVAL_MS },
		)
		.toBe(0);
	return answeredAt;
}

/** Child processes (PostgreSQL's backends, nginx's workers), from /proc. */
function descendants(pid: number): number[] {
	const children: number[] = [];
	for (const entry of listPids()) {
		const stat = readProc(entry, "stat");
		// Field 4 is the parent PID; the command name (field 2) may contain spaces.
		const ppid = Number(stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
		if (ppid === pid) children.push(entry, ...descendants(entry));
	}
	return children;
}

function listPids(): number[] {
	return readdirSync("/proc")
		.filter((name) => /^\d+$/.test(name))
		.map(Number);
}

function readProc(pid: number, file: string): string | undefined {
	try {
		return readFileSync(`/proc/${pid}/${file}`, "utf8");
	} catch {
		return undefined;
	}
}
