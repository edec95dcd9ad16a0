// Scenario 12: where one-at-a-time creation goes, by phase. For each new
// actor, one at a time: the client's `PUT /actors` (create), then its first
// action through the gateway. Every event is an epoch-millisecond timestamp
// on this machine's clock:
//
// - the client sends `PUT /actors` (t = 0) and gets its answer;
// - the engine's own record of the actor (`GET /actors`): `create_ts`,
//   `start_ts` and `connectable_ts` (the actor reported ready);
// - the engine's `/api/rivet/start` request reaching the app server (the
//   server's start-timing line, tools/bench/start-timings.ts);
// - the client gets the first action's answer.
//
// Counters (state only) and chat rooms (state plus a SQLite database with
// migrations) side by side: their difference is what opening the database and
// migrating it costs. The table prints each event's median offset from t = 0.

import { readFileSync } from "node:fs";
import { type BenchContext, eachRuntime, putActor, type RuntimeSide, rowName, type Scenario } from "../lib/context.ts";
import { log, percentile, type ScenarioResult } from "../lib/measure.ts";
import { START_TIMING_PREFIX } from "../start-timings.ts";

const FULL_CREATIONS = 20;
const QUICK_CREATIONS = 8;

/** One creation's events, in ms after its `PUT /actors` was sent. */
interface Timeline {
	putAnswered: number;
	created: number | null;
	started: number | null;
	startRequest: number | null;
	connectable: number | null;
	firstAction: number;
}

export interface PhaseRow {
	runtime: string;
	actor: string;
	creations: number;
	/** Median ms after the client's `PUT /actors`, per event. */
	medians: Record<keyof Timeline, number | null>;
	/** Creations whose `/start` request was seen in the server log. */
	startRequestsSeen: number;
}

/** The rows of the phase table, kept for the printed table (run.ts). */
export const phaseRows: PhaseRow[] = [];

const FIRST_ACTIONS = {
	counter: { action: "increment", args: [1] },
	chatRoom: { action: "info", args: [] },
} as const;

function startRequestTimes(logFile: string | undefined): number[] {
	if (logFile === undefined) return [];
	return readFileSync(logFile, "utf8")
		.split("\n")
		.filter((line) => line.startsWith(START_TIMING_PREFIX))
		.map((line) => Number(line.slice(START_TIMING_PREFIX.length).trim()));
}

async function engineTimes(ctx: BenchContext, actorId: string): Promise<Record<string, number | null>> {
	const res = await fetch(`${ctx.engineUrl}/actors?namespace=default&actor_ids=${actorId}`);
	if (!res.ok) throw new Error(`GET /actors: ${res.status} ${await res.text()}`);
	const body = (await res.json()) as { actors: Array<Record<string, unknown>> };
	const actor = body.actors[0] ?? {};
	const ts = (key: string) => (typeof actor[key] === "number" ? (actor[key] as number) : null);
	return { create: ts("create_ts"), start: ts("start_ts"), connectable: ts("connectable_ts") };
}

async function oneCreation(
	ctx: BenchContext,
	side: RuntimeSide,
	name: keyof typeof FIRST_ACTIONS,
	key: string,
): Promise<Timeline> {
	const t0 = Date.now();
	const id = await putActor(ctx, name, key, side.pool);
	const putAnswered = Date.now() - t0;
	const { action, args } = FIRST_ACTIONS[name];
	const headers: Record<string, string> = { "content-type": "application/json", ...ctx.auth.headers };
	const res = await fetch(`${ctx.engineUrl}/gateway/${id}/action/${action}`, {
		method: "POST",
		headers,
		body: JSON.stringify({ args }),
	});
	await res.arrayBuffer();
	if (!res.ok) throw new Error(`first action on ${name} answered ${res.status}`);
	const firstAction = Date.now() - t0;
	const engine = await engineTimes(ctx, id);
	const rel = (t: number | null | undefined) => (t === null || t === undefined ? null : t - t0);
	const start = startRequestTimes(side.logFile).find((t) => t >= t0 && t <= t0 + firstAction);
	return {
		putAnswered,
		created: rel(engine.create),
		started: rel(engine.start),
		startRequest: rel(start),
		connectable: rel(engine.connectable),
		firstAction,
	};
}

function median(values: Array<number | null>): number | null {
	const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
	return percentile(present, 0.5);
}

export const coldStart: Scenario = (ctx) =>
	eachRuntime(ctx, async (side) => {
		const count = ctx.quick ? QUICK_CREATIONS : FULL_CREATIONS;
		for (const name of ["counter", "chatRoom"] as const) {
			const timelines: Timeline[] = [];
			let errors = 0;
			const started = performance.now();
			for (let i = 0; i < count; i++) {
				try {
					timelines.push(await oneCreation(ctx, side, name, `${ctx.runId}-${side.runtime}-phase-${name}-${i}`));
				} catch (error) {
					errors++;
					log(`  ${side.runtime} ${name} creation ${i}: ${String(error).slice(0, 200)}`);
				}
			}
			const elapsed = performance.now() - started;
			const medians = {
				putAnswered: median(timelines.map((t) => t.putAnswered)),
				created: median(timelines.map((t) => t.created)),
				started: median(timelines.map((t) => t.started)),
				startRequest: median(timelines.map((t) => t.startRequest)),
				connectable: median(timelines.map((t) => t.connectable)),
				firstAction: median(timelines.map((t) => t.firstAction)),
			};
			const row: PhaseRow = {
				runtime: side.runtime,
				actor: name,
				creations: timelines.length,
				medians,
				startRequestsSeen: timelines.filter((t) => t.startRequest !== null).length,
			};
			phaseRows.push(row);
			const sorted = timelines.map((t) => t.firstAction).sort((a, b) => a - b);
			const result: ScenarioResult = {
				scenario: rowName(
					`cold start: ${count} ${name === "counter" ? "counters" : "chat rooms"}, one at a time`,
					side,
				),
				baseline: "sequential",
				opsPerS: (timelines.length / elapsed) * 1_000,
				p50Ms: percentile(sorted, 0.5),
				p90Ms: percentile(sorted, 0.9),
				p99Ms: percentile(sorted, 0.99),
				errors,
				engineCpuS: 0,
				nodeCpuS: 0,
				ratio: null,
				notes: "PUT /actors then the first action over the gateway; phases in the table below",
			};
			ctx.results.push(result);
		}
	});

const cell = (v: number | null) => (v === null ? "" : v.toFixed(0));

/** The phase table: each event's median offset (ms) from the client's `PUT /actors`. */
export function phaseTable(rows: PhaseRow[]): string {
	const lines = [
		"| runtime | actor | creations | PUT answered | engine create_ts | engine start_ts | /start reaches app | engine connectable_ts | first action answered |",
		"|---|---|---:|---:|---:|---:|---:|---:|---:|",
	];
	for (const r of rows) {
		const m = r.medians;
		lines.push(
			`| ${r.runtime} | ${r.actor} | ${r.creations} | ${cell(m.putAnswered)} | ${cell(m.created)} | ${cell(m.started)} | ${r.startRequestsSeen === 0 ? "not seen" : cell(m.startRequest)} | ${cell(m.connectable)} | ${cell(m.firstAction)} |`,
		);
	}
	return lines.join("\n");
}
