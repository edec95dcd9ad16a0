// Scenarios 1-4: the plain Hono baseline, then one counter action by every
// road a client has: raw HTTP through the engine's gateway (1 actor and 100
// actors), the rivetkit client stateless and over `.connect()` (sequential
// round trip and pipelined), each against the project's `handler()` app and
// the `registry.start()` process, interleaved.

import type { ActorHandle } from "rivetkit/client";
import type { counter } from "../../../src/actors/counter/counter.ts";
import { callAtMostOnce } from "../../client/retry.ts";
import type { BenchContext, RuntimeSide, Scenario } from "../lib/context.ts";
import { eachRuntime, putActor, rowName } from "../lib/context.ts";
import { httpLoad } from "../lib/http.ts";
import { closedLoop, cpuSeconds, log, measure, type Pids, Samples } from "../lib/measure.ts";

/** Connections for "parallel" HTTP load (the starting measurements used 50). */
export const HTTP_CONNECTIONS = 50;
/** Actions in flight on one WebSocket connection when pipelining. */
export const PIPELINE_DEPTH = 16;
/** Concurrent stateless client calls. */
const CLIENT_CONCURRENCY = 50;
/** Distinct counters for the "many actors" gateway run; quick mode creates fewer (creation dominates its time). */
const MANY_ACTORS = 100;
const QUICK_MANY_ACTORS = 20;
const WARMUP_CALLS = 5;
/** Alternating slices per side when comparing `handler()` with `start()`. */
const QUICK_AB_SLICES = 2;
const FULL_AB_SLICES = 4;
/** Seconds per side and call pattern in the quick run (ten such runs). */
const QUICK_AB_SECONDS = 2;

/**
 * Seconds per HTTP load run (also the Durable Object peer's, tools/bench/peer/).
 * The quick run's twelve such runs (baseline, gateway, the peer's HTTP and
 * WebSocket rows) took about a fifth of its time at 3 s; at 2 s the slowest
 * of them (one sequential connection through native's stalled socket, about
 * 19 calls/s) still takes about 40 samples.
 */
export function durationS(ctx: BenchContext): number {
	return ctx.quick ? 2 : 8;
}

const INCREMENT_BODY = JSON.stringify({ args: [1] });

export const baseline: Scenario = async (ctx) => {
	const url = `${ctx.appUrl}/api/ping`;
	for (const [name, connections, kind] of [
		["baseline: Hono GET /api/ping, 50 conns", HTTP_CONNECTIONS, "parallel"],
		["baseline: Hono GET /api/ping, 1 conn (sequential)", 1, "sequential"],
	] as const) {
		const result = await measure(name, ctx.handlerPids, async (progress) => ({
			scenario: name,
			baseline: kind,
			notes: "plain JSON route in the same server, no actor",
			...(await httpLoad({ url, connections, durationS: durationS(ctx), onProgress: progress })),
		}));
		ctx.results.push(result);
	}
};

async function gatewayRun(
	ctx: BenchContext,
	name: string,
	pids: Pids,
	actorIds: string[],
	connections: number,
	kind: "parallel" | "sequential",
): Promise<void> {
	const requests = actorIds.map((id) => ({
		method: "POST" as const,
		path: `/gateway/${id}/action/increment`,
		body: INCREMENT_BODY,
	}));
	// Wake every actor first: this measures awake actors, not creation.
	for (const r of requests) {
		await fetch(`${ctx.engineUrl}${r.path}`, { method: "POST", headers: ctx.auth.headers, body: r.body });
	}
	const result = await measure(name, pids, async (progress) => ({
		scenario: name,
		baseline: kind,
		notes: "",
		...(await httpLoad({
			url: ctx.engineUrl,
			connections,
			durationS: durationS(ctx),
			requests,
			headers: ctx.auth.headers,
			onProgress: progress,
		})),
	}));
	ctx.results.push({
		...result,
		notes: `counter.increment over POST /gateway/{id}/action, ${actorIds.length} actor(s)`,
	});
}

export const gateway: Scenario = async (ctx) => {
	const count = ctx.quick ? QUICK_MANY_ACTORS : MANY_ACTORS;
	const actors = new Map<RuntimeSide, { one: string; many: string[] }>();
	for (const side of ctx.runtimes) {
		// Keys name actors engine-wide, whatever the pool: one set per side.
		const prefix = `${ctx.runId}-${side.runtime}`;
		const one = await putActor(ctx, "counter", `${prefix}-gw-1`, side.pool);
		const many = await Promise.all(
			Array.from({ length: count }, (_, i) => putActor(ctx, "counter", `${prefix}-gw-many-${i}`, side.pool)),
		);
		actors.set(side, { one, many });
	}
	const on = (side: RuntimeSide) => actors.get(side) ?? { one: "", many: [] };
	await eachRuntime(ctx, (side) =>
		gatewayRun(
			ctx,
			rowName("gateway: increment, 1 actor, 1 conn (sequential)", side),
			side.pids,
			[on(side).one],
			1,
			"sequential",
		),
	);
	await eachRuntime(ctx, (side) =>
		gatewayRun(
			ctx,
			rowName("gateway: increment, 1 actor, 50 conns", side),
			side.pids,
			[on(side).one],
			HTTP_CONNECTIONS,
			"parallel",
		),
	);
	await eachRuntime(ctx, (side) =>
		gatewayRun(
			ctx,
			rowName(`gateway: increment, ${count} actors, 50 conns`, side),
			side.pids,
			on(side).many,
			HTTP_CONNECTIONS,
			"parallel",
		),
	);
};

type CounterHandle = ActorHandle<typeof counter>;

/** One of the two servers a scenario-3/4 call pattern runs on. */
interface Side {
	label: "handler" | "start" | "wasm";
	pids: Pids;
	op: () => Promise<unknown>;
	/** Calls `op` retried because the engine answered before the action ran. */
	retries?: { count: number };
}

/** What one side collected over its slices. */
interface Tally {
	samples: Samples;
	elapsedMs: number;
	engineCpuS: number;
	nodeCpuS: number;
}

/**
 * Runs one call pattern on both servers in alternating slices (handler,
 * start, then start, handler, …) and records one row per side. Run one after
 * the other, a burst of load from anything else on a shared machine lands on
 * one side only; that made `handler()` look up to six times slower than
 * `start()` in one run and faster in the next. Interleaved, both sides see
 * the same machine.
 */
async function interleaved(
	ctx: BenchContext,
	pattern: string,
	kind: "parallel" | "sequential",
	concurrency: number,
	sides: Side[],
	notes: string,
): Promise<void> {
	for (const side of sides) for (let i = 0; i < WARMUP_CALLS; i++) await side.op();
	const slices = ctx.quick ? QUICK_AB_SLICES : FULL_AB_SLICES;
	const sliceMs = ((ctx.quick ? QUICK_AB_SECONDS : durationS(ctx)) * 1_000) / slices;
	const tallies: Tally[] = sides.map(() => ({ samples: new Samples(), elapsedMs: 0, engineCpuS: 0, nodeCpuS: 0 }));
	for (let slice = 0; slice < slices; slice++) {
		const forward = sides.map((_, i) => i);
		const order = slice % 2 === 0 ? forward : forward.reverse();
		for (const i of order) {
			const side = sides[i] as Side;
			const tally = tallies[i] as Tally;
			const engineBefore = cpuSeconds(side.pids.engine);
			const nodeBefore = cpuSeconds(side.pids.node);
			const { samples, elapsedMs } = await closedLoop({ concurrency, durationMs: sliceMs, op: side.op });
			tally.engineCpuS += cpuSeconds(side.pids.engine) - engineBefore;
			tally.nodeCpuS += cpuSeconds(side.pids.node) - nodeBefore;
			tally.elapsedMs += elapsedMs;
			tally.samples.absorb(samples);
		}
		log(`  … ${pattern}: slice ${slice + 1}/${slices} on each of ${sides.length} sides`);
	}
	sides.forEach((side, i) => {
		const tally = tallies[i] as Tally;
		ctx.results.push({
			scenario: `client (${side.label}): ${pattern}`,
			baseline: kind,
			...tally.samples.summary(tally.elapsedMs),
			engineCpuS: tally.engineCpuS,
			nodeCpuS: tally.nodeCpuS,
			ratio: null,
			notes: [
				notes,
				`${slices} slices interleaved with the other ${sides.length - 1} side(s)`,
				side.retries?.count ? `${side.retries.count} retried (engine answered before the action ran)` : "",
				tally.samples.errorNote(),
			]
				.filter(Boolean)
				.join("; "),
		});
	});
}

/** A gateway POST of `counter.increment`, as any HTTP client would send it. */
function gatewayIncrement(ctx: BenchContext, actorId: string): () => Promise<unknown> {
	return async () => {
		const res = await fetch(`${ctx.engineUrl}/gateway/${actorId}/action/increment`, {
			method: "POST",
			headers: { "content-type": "application/json", ...ctx.auth.headers },
			body: INCREMENT_BODY,
		});
		await res.arrayBuffer();
		if (!res.ok) throw new Error(`gateway answered ${res.status}`);
	};
}

/**
 * Scenarios 3 and 4: the rivetkit client, stateless and over `.connect()`,
 * against the project's `registry.handler()` app (native runtime), the same
 * registry on `registry.start()`, and the `handler()` app on the wasm
 * runtime, plus gateway HTTP at 50 connections on each, every call pattern
 * interleaved between them.
 */
export const clientAndStart: Scenario = async (ctx) => {
	const wasmSide = ctx.runtimes.find((side) => side.runtime === "wasm");
	const params = ctx.auth.params;
	const handles: Array<{ label: Side["label"]; pids: Pids; handle: CounterHandle; pool: string }> = [
		{
			label: "handler",
			pids: ctx.handlerPids,
			handle: ctx.client.counter.getOrCreate([`${ctx.runId}-client`], { params }),
			pool: ctx.handlerPool,
		},
		{
			label: "start",
			pids: ctx.envoyPids,
			handle: ctx.envoyClient.counter.getOrCreate([`${ctx.runId}-envoy`], { params }),
			pool: ctx.envoyPool,
		},
		...(wasmSide
			? [
					{
						label: "wasm" as const,
						pids: wasmSide.pids,
						handle: wasmSide.client.counter.getOrCreate([`${ctx.runId}-wasm-client`], { params }),
						pool: wasmSide.pool,
					},
				]
			: []),
	];
	// A stateless call resolves the actor by key on every call; under load the
	// engine sometimes answers that with `actor.no_runner_config_configured`
	// before the action runs. The project's client code retries exactly that
	// (`callAtMostOnce`), and the rows count the retries.
	const stateless = handles.map(({ label, pids, handle }): Side => {
		const retries = { count: 0 };
		const op = () => callAtMostOnce(() => handle.increment(1), { onRetry: () => retries.count++ });
		return { label, pids, retries, op };
	});
	await interleaved(ctx, "stateless, sequential", "sequential", 1, stateless, "HTTP per call");
	await interleaved(ctx, "stateless, 50 concurrent", "parallel", CLIENT_CONCURRENCY, stateless, "HTTP per call");
	const conns = handles.map(({ handle }) => handle.connect());
	try {
		const connected = handles.map(
			({ label, pids }, i): Side => ({
				label,
				pids,
				op: () => (conns[i] as (typeof conns)[number]).increment(1),
			}),
		);
		await interleaved(ctx, ".connect(), sequential", "sequential", 1, connected, "one WebSocket");
		await interleaved(
			ctx,
			`.connect(), ${PIPELINE_DEPTH} in flight`,
			"parallel",
			PIPELINE_DEPTH,
			connected,
			"one WebSocket, pipelined",
		);
	} finally {
		await Promise.all(conns.map((c) => c.dispose()));
	}
	// Keys name actors engine-wide, whatever the pool: one key per side.
	const ids = await Promise.all(
		handles.map(({ label, pool }) => putActor(ctx, "counter", `${ctx.runId}-ab-gw-${label}`, pool)),
	);
	await interleaved(
		ctx,
		`gateway increment, ${HTTP_CONNECTIONS} conns`,
		"parallel",
		HTTP_CONNECTIONS,
		handles.map(({ label, pids }, i): Side => ({ label, pids, op: gatewayIncrement(ctx, ids[i] ?? "") })),
		"POST /gateway/{id}/action/increment with fetch",
	);
};
