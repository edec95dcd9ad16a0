// Scenarios 7 and 8: creating actors, what they cost in memory awake and
// asleep, and waking them.
//
// Flow: read both processes' RSS with no bench actors → create 100 counters
// (create + first action, 50 at a time: the cold-create measurement; 30 in
// the quick run) → RSS →
// (full run) grow to 1,000 (`--actors`) → RSS → ask the engine to put them all to sleep →
// RSS → wake some, one at a time (the wake measurement).

import { callIdempotent } from "../../client/retry.ts";
import type { BenchContext, RuntimeSide, Scenario } from "../lib/context.ts";
import { countAsleep, eachRuntime, requestSleep, rowName } from "../lib/context.ts";
import { closedLoop, log, measure, rssMiB, type ScenarioResult } from "../lib/measure.ts";

/** Creations in flight at once (the "50 concurrent"). */
const CREATE_CONCURRENCY = 50;
/** Counters in the cold-create measurement; the quick run's creation dominated its time at 50. */
const FULL_FIRST_BATCH = 100;
const QUICK_FIRST_BATCH = 30;
/**
 * How long one creation may take, retries included, before it counts as an
 * error. Creations go through the project's retrying client
 * (`callIdempotent` in `tools/client/retry.ts`): the first action is
 * `increment(1, { requestId })`, so a retry never counts twice.
 */
const CREATE_DEADLINE_MS = 60_000;
/** One attempt; creation at 50 concurrent took up to 9 s in quick runs. */
const CREATE_ATTEMPT_TIMEOUT_MS = 30_000;
const SLEEP_TIMEOUT_MS = 120_000;
/** How often the growth toward `--actors` logs how far it got. */
const GROWTH_PROGRESS_INTERVAL_MS = 10_000;

interface Created {
	ids: string[];
	retries: number;
}

async function createCounters(
	ctx: BenchContext,
	side: RuntimeSide,
	from: number,
	to: number,
	name: string | null,
): Promise<Created> {
	const ids: string[] = new Array(to - from);
	let retries = 0;
	const createOne = async (i: number): Promise<void> => {
		const handle = side.client.counter.getOrCreate([`${ctx.runId}-${side.runtime}-cold-${from + i}`], {
			params: ctx.auth.params,
		});
		await callIdempotent(({ requestId }) => handle.increment(1, { requestId }), {
			requestId: `${ctx.runId}-${side.runtime}-create-${from + i}`,
			attemptTimeoutMs: CREATE_ATTEMPT_TIMEOUT_MS,
			deadlineMs: CREATE_DEADLINE_MS,
			onRetry: () => retries++,
		});
		ids[i] = await handle.resolve();
	};
	if (name === null) {
		// Unmeasured growth (toward `--actors`) takes minutes: say how far it got.
		let loggedAt = Date.now();
		const { samples } = await closedLoop({
			concurrency: CREATE_CONCURRENCY,
			count: to - from,
			op: createOne,
			onProgress: (text) => {
				if (Date.now() - loggedAt < GROWTH_PROGRESS_INTERVAL_MS) return;
				loggedAt = Date.now();
				log(`  ${side.runtime}: growing from ${from} to ${to} counters: ${text}`);
			},
		});
		if (samples.errors > 0) log(`  ${samples.errors} creations failed: ${samples.errorNote()}`);
		return { ids: ids.filter(Boolean), retries };
	}
	const result = await measure(name, side.pids, async (progress) => {
		const { samples, elapsedMs } = await closedLoop({
			concurrency: CREATE_CONCURRENCY,
			count: to - from,
			op: createOne,
			onProgress: progress,
		});
		return {
			scenario: name,
			baseline: "parallel" as const,
			notes: [`create + first action, ${Math.min(to - from, CREATE_CONCURRENCY)} at a time`, samples.errorNote()]
				.filter(Boolean)
				.join("; "),
			...samples.summary(elapsedMs),
		};
	});
	ctx.results.push({ ...result, notes: `${result.notes}; ${retries} retried` });
	return { ids: ids.filter(Boolean), retries };
}

function memoryRow(
	ctx: BenchContext,
	side: RuntimeSide,
	base: string,
	start: { engine: number; node: number },
	actors: number,
): void {
	const scenario = rowName(base, side);
	const engine = rssMiB(side.pids.engine);
	const node = rssMiB(side.pids.node);
	const per = (now: number, before: number) =>
		actors > 0 ? `${(((now - before) * 1024) / actors).toFixed(0)} KiB/actor` : "";
	const result: ScenarioResult = {
		scenario,
		baseline: null,
		opsPerS: null,
		p50Ms: null,
		p99Ms: null,
		errors: 0,
		engineCpuS: 0,
		nodeCpuS: 0,
		ratio: null,
		notes:
			`RSS engine ${engine.toFixed(0)} MiB ${per(engine, start.engine)}, node ${node.toFixed(0)} MiB ${per(node, start.node)}`.replace(
				/ +,/g,
				",",
			),
	};
	ctx.results.push(result);
	log(`  ${scenario}: ${result.notes}`);
}

export const lifecycle: Scenario = (ctx) => eachRuntime(ctx, (side) => lifecycleOn(ctx, side));

async function lifecycleOn(ctx: BenchContext, side: RuntimeSide): Promise<void> {
	// The engine is shared: its growth is counted from just before this side's creations.
	const base = { engine: rssMiB(side.pids.engine), node: rssMiB(side.pids.node) };
	memoryRow(ctx, side, "memory: 0 bench actors", base, 0);

	const firstBatch = ctx.quick ? QUICK_FIRST_BATCH : FULL_FIRST_BATCH;
	const first = await createCounters(
		ctx,
		side,
		0,
		firstBatch,
		rowName(`cold create: ${firstBatch} counters, ${Math.min(firstBatch, CREATE_CONCURRENCY)} concurrent`, side),
	);
	const ids = [...first.ids];
	memoryRow(ctx, side, `memory: ${ids.length} awake counters`, base, ids.length);

	if (!ctx.quick) {
		const more = await createCounters(ctx, side, firstBatch, ctx.maxActors, null);
		ids.push(...more.ids);
		const asleep = await countAsleep(ctx, ids);
		memoryRow(ctx, side, `memory: ${ids.length} counters (${ids.length - asleep} awake)`, base, ids.length);
	}

	log(`  ${side.runtime}: asking the engine to put ${ids.length} counters to sleep`);
	await closedLoop({ concurrency: 20, count: ids.length, op: (i) => requestSleep(ctx, ids[i] ?? "") });
	const deadline = Date.now() + SLEEP_TIMEOUT_MS;
	let asleep = await countAsleep(ctx, ids);
	while (asleep < ids.length && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 500));
		asleep = await countAsleep(ctx, ids);
	}
	memoryRow(ctx, side, `memory: ${asleep} sleeping counters`, base, asleep);

	const wakes = Math.min(ctx.quick ? 20 : 50, ids.length);
	const name = rowName(`wake from sleep: ${wakes} counters, one at a time`, side);
	const result = await measure(name, side.pids, async (progress) => {
		const { samples, elapsedMs } = await closedLoop({
			concurrency: 1,
			count: wakes,
			op: (i) => side.client.counter.getForId(ids[i] ?? "", { params: ctx.auth.params }).getCount(),
			onProgress: progress,
		});
		return {
			scenario: name,
			baseline: "sequential" as const,
			notes: ["first action on a sleeping actor", samples.errorNote()].filter(Boolean).join("; "),
			...samples.summary(elapsedMs),
		};
	});
	ctx.results.push(result);
}
