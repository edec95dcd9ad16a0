// Scenarios 1-4: the plain Hono baseline, then one counter action by every
// road a client has: raw HTTP through the engine's gateway (1 actor and 100
// actors), the rivetkit client stateless and over `.connect()` (sequential
// round trip and pipelined), and the same on the `registry.start()` process.

import type { ActorHandle } from "rivetkit/client";
import type { counter } from "../../src/actors/counter.ts";
import type { BenchContext, Scenario } from "../lib/context.ts";
import { putActor } from "../lib/context.ts";
import { httpLoad } from "../lib/http.ts";
import { closedLoop, measure, type Pids } from "../lib/measure.ts";

/** Connections for "parallel" HTTP load (the starting measurements used 50). */
export const HTTP_CONNECTIONS = 50;
/** Actions in flight on one WebSocket connection when pipelining. */
export const PIPELINE_DEPTH = 16;
/** Concurrent stateless client calls. */
const CLIENT_CONCURRENCY = 50;
/** Distinct counters for the "100 actors" gateway run. */
const MANY_ACTORS = 100;
const WARMUP_CALLS = 5;

function durationS(ctx: BenchContext): number {
	return ctx.quick ? 3 : 8;
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
	for (const r of requests) await fetch(`${ctx.engineUrl}${r.path}`, { method: "POST", body: r.body });
	const result = await measure(name, pids, async (progress) => ({
		scenario: name,
		baseline: kind,
		notes: "",
		...(await httpLoad({ url: ctx.engineUrl, connections, durationS: durationS(ctx), requests, onProgress: progress })),
	}));
	ctx.results.push({
		...result,
		notes: `counter.increment over POST /gateway/{id}/action, ${actorIds.length} actor(s)`,
	});
}

export const gateway: Scenario = async (ctx) => {
	const one = await putActor(ctx, "counter", `${ctx.runId}-gw-1`, ctx.handlerPool);
	await gatewayRun(ctx, "gateway: increment, 1 actor, 1 conn (sequential)", ctx.handlerPids, [one], 1, "sequential");
	await gatewayRun(ctx, "gateway: increment, 1 actor, 50 conns", ctx.handlerPids, [one], HTTP_CONNECTIONS, "parallel");
	const many = await Promise.all(
		Array.from({ length: MANY_ACTORS }, (_, i) =>
			putActor(ctx, "counter", `${ctx.runId}-gw-many-${i}`, ctx.handlerPool),
		),
	);
	await gatewayRun(
		ctx,
		"gateway: increment, 100 actors, 50 conns",
		ctx.handlerPids,
		many,
		HTTP_CONNECTIONS,
		"parallel",
	);
};

type CounterHandle = ActorHandle<typeof counter>;

async function clientRun(
	ctx: BenchContext,
	name: string,
	pids: Pids,
	kind: "parallel" | "sequential",
	concurrency: number,
	op: () => Promise<unknown>,
	notes: string,
): Promise<void> {
	for (let i = 0; i < WARMUP_CALLS; i++) await op();
	const result = await measure(name, pids, async (progress) => {
		const { samples, elapsedMs } = await closedLoop({
			concurrency,
			durationMs: durationS(ctx) * 1_000,
			op,
			onProgress: progress,
		});
		return { scenario: name, baseline: kind, notes: samples.errorNote(), ...samples.summary(elapsedMs) };
	});
	ctx.results.push({ ...result, notes: [notes, result.notes].filter(Boolean).join("; ") });
}

/** Stateless, sequential-connected and pipelined-connected increments on one counter. */
async function clientSuite(ctx: BenchContext, label: string, handle: CounterHandle, pids: Pids): Promise<void> {
	await clientRun(
		ctx,
		`${label}: stateless, sequential`,
		pids,
		"sequential",
		1,
		() => handle.increment(1),
		"HTTP per call",
	);
	await clientRun(
		ctx,
		`${label}: stateless, 50 concurrent`,
		pids,
		"parallel",
		CLIENT_CONCURRENCY,
		() => handle.increment(1),
		"HTTP per call",
	);
	const conn = handle.connect();
	try {
		await clientRun(
			ctx,
			`${label}: .connect(), sequential`,
			pids,
			"sequential",
			1,
			() => conn.increment(1),
			"one WebSocket",
		);
		await clientRun(
			ctx,
			`${label}: .connect(), ${PIPELINE_DEPTH} in flight`,
			pids,
			"parallel",
			PIPELINE_DEPTH,
			() => conn.increment(1),
			"one WebSocket, pipelined",
		);
	} finally {
		await conn.dispose();
	}
}

export const client: Scenario = async (ctx) => {
	const handle = ctx.client.counter.getOrCreate([`${ctx.runId}-client`]);
	await clientSuite(ctx, "client (handler)", handle, ctx.handlerPids);
};

/** Scenario 4: the same actor and calls, served by `registry.start()` instead of `handler()`. */
export const envoyVersusHandler: Scenario = async (ctx) => {
	const handle = ctx.envoyClient.counter.getOrCreate([`${ctx.runId}-envoy`]);
	await clientSuite(ctx, "client (start)", handle, ctx.envoyPids);
	const one = await putActor(ctx, "counter", `${ctx.runId}-envoy-gw`, ctx.envoyPool);
	await gatewayRun(
		ctx,
		"gateway (start): increment, 1 actor, 50 conns",
		ctx.envoyPids,
		[one],
		HTTP_CONNECTIONS,
		"parallel",
	);
};
