// Scenario 9: what a durable write costs. Eight connections, each with its
// own lane of sequential calls, against one actor: a read (the control), a
// state write saved immediately, a SQLite insert and a KV put, all through
// the project's own actions, so the numbers are what the app really pays.

import {
	type BenchContext,
	eachRuntime,
	type RuntimeSide,
	readyConnection,
	rowName,
	type Scenario,
} from "../lib/context.ts";
import { closedLoop, measure } from "../lib/measure.ts";

const LANES = 8;

export const durableWrites: Scenario = async (ctx) => {
	// Each kind of write runs on both runtimes before the next kind.
	const runs = await Promise.all(ctx.runtimes.map((side) => openDurable(ctx, side)));
	try {
		for (let kind = 0; kind < DURABLE_KINDS; kind++) {
			await eachRuntime(ctx, async (side) => {
				await runs[ctx.runtimes.indexOf(side)]?.measure(kind);
			});
		}
	} finally {
		await Promise.all(runs.map((r) => r.close()));
	}
};

/** Read, state write, SQLite insert, KV put. */
const DURABLE_KINDS = 4;

async function openDurable(
	ctx: BenchContext,
	side: RuntimeSide,
): Promise<{ measure(kind: number): Promise<void>; close(): Promise<void> }> {
	const perLane = ctx.quick ? 25 : 125;
	const total = LANES * perLane;
	const counterKey = [`${ctx.runId}-${side.runtime}-durable-counter`];
	const roomKey = [`${ctx.runId}-${side.runtime}-durable-room`];
	type CounterConn = ReturnType<ReturnType<typeof side.client.counter.getOrCreate>["connect"]>;
	type RoomConn = ReturnType<ReturnType<typeof side.client.chatRoom.getOrCreate>["connect"]>;
	const counters: CounterConn[] = [];
	const rooms: RoomConn[] = [];
	try {
		for (let lane = 0; lane < LANES; lane++) {
			// One identity per lane: chat caps connections per user and room.
			const writer = await ctx.auth.as(`writer${lane}`);
			counters.push(
				await readyConnection(
					() => side.client.counter.getOrCreate(counterKey, { params: ctx.auth.params }).connect(),
					(c) => c.getCount(),
					`counter connection ${lane}`,
				),
			);
			rooms.push(
				await readyConnection(
					() => side.client.chatRoom.getOrCreate(roomKey, { params: writer }).connect(),
					(r) => r.info(),
					`chat connection ${lane}`,
				),
			);
		}
		const posted: number[][] = Array.from({ length: LANES }, () => []);
		const runs: Array<[string, string, (lane: number, i: number) => Promise<unknown>]> = [
			[
				"durable: read (counter.getCount), control",
				"no write",
				(lane) => counters[lane]?.getCount() ?? Promise.resolve(),
			],
			[
				"durable: state, saveState immediate (counter.increment)",
				"one state write, awaited",
				(lane) => counters[lane]?.increment(1) ?? Promise.resolve(),
			],
			[
				"durable: SQLite insert (chatRoom.postMessage)",
				"one INSERT … RETURNING + broadcast",
				async (lane, i) => {
					const message = await rooms[lane]?.postMessage(`write ${lane}/${i}`);
					if (message) posted[lane]?.push(message.id);
				},
			],
			[
				"durable: KV put (chatRoom.markRead)",
				"one SELECT + KV get + KV put",
				(lane, i) => rooms[lane]?.markRead(posted[lane]?.[i] ?? 1) ?? Promise.resolve(),
			],
		];
		return {
			async measure(kind) {
				const run = runs[kind];
				if (run === undefined) throw new Error(`no durable write kind ${kind}`);
				const [base, notes, op] = run;
				const name = rowName(base, side);
				const result = await measure(name, side.pids, async (progress) => {
					const counts = new Array<number>(LANES).fill(0);
					const { samples, elapsedMs } = await closedLoop({
						concurrency: LANES,
						count: total,
						// Each lane is one connection calling in order: the KV run marks its own messages read in order.
						op: (_index, lane) => {
							const i = counts[lane] ?? 0;
							counts[lane] = i + 1;
							return op(lane, i);
						},
						onProgress: progress,
					});
					return {
						scenario: name,
						baseline: "parallel" as const,
						notes: [`${LANES} connections × ${perLane} sequential calls; ${notes}`, samples.errorNote()]
							.filter(Boolean)
							.join("; "),
						...samples.summary(elapsedMs),
					};
				});
				ctx.results.push(result);
			},
			close: () => Promise.all([...counters, ...rooms].map((c) => c.dispose())).then(() => undefined),
		};
	} catch (error) {
		await Promise.all([...counters, ...rooms].map((c) => c.dispose()));
		throw error;
	}
}
