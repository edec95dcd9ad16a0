// What the scenarios share: the two servers (the project's `handler()` app
// and the `registry.start()` envoy process) on one engine, a typed client for
// each, the run's size and the engine's management API.

import type { Client } from "rivetkit/client";
import type { Registry } from "../../../src/registry.ts";
import { callIdempotent } from "../../client/retry.ts";
import type { BenchCredentials } from "./auth.ts";
import { log, type Pids, type ScenarioResult, within } from "./measure.ts";

/** Actor ids per management-API list request. */
const ID_PAGE = 20;

/** Which rivetkit core an app server runs its actors on (`FLEET_RUNTIME`, src/runtime.ts). */
export type RuntimeName = "native" | "wasm";

/**
 * One app server serving the registry through `registry.handler()`, on its
 * own pool against the bench's engine: the native one and the wasm one run
 * the same rows, one right after the other.
 */
export interface RuntimeSide {
	runtime: RuntimeName;
	client: Client<Registry>;
	pool: string;
	pids: Pids;
	appUrl: string;
	/** The app server's log (its start-timing lines, tools/bench/start-timings.ts, feed the cold-start phases). */
	logFile?: string;
}

/** A row's name on a side: the native rows keep their names, the wasm rows end in `[wasm]`. */
export function rowName(base: string, side: RuntimeSide): string {
	return side.runtime === "native" ? base : `${base} [wasm]`;
}

/** The name of the same row on the other runtime, or null for a row without a runtime. */
export function wasmTwin(scenario: string): string | null {
	if (scenario.endsWith(" [wasm]")) return null;
	if (scenario.startsWith("client (handler): ")) return scenario.replace("client (handler): ", "client (wasm): ");
	if (scenario.startsWith("client (")) return null;
	return `${scenario} [wasm]`;
}

let turn = 0;

/**
 * Runs `body` once per runtime, the order alternating from one call to the
 * next (native, wasm, then wasm, native, …), so that neither side always runs
 * first on a machine whose load drifts.
 */
export async function eachRuntime(ctx: BenchContext, body: (side: RuntimeSide) => Promise<void>): Promise<void> {
	const sides = turn++ % 2 === 0 ? ctx.runtimes : [...ctx.runtimes].reverse();
	for (const side of sides) await body(side);
}

export interface BenchContext {
	quick: boolean;
	/** Counters in the full run's largest memory step (`--actors`). */
	maxActors: number;
	engineUrl: string;
	appUrl: string;
	/** Engine + the Hono app server (actors served through `registry.handler()`). */
	handlerPids: Pids;
	/** Engine + the `registry.start()` process. */
	envoyPids: Pids;
	/** Actors on the handler app's pool. */
	client: Client<Registry>;
	/** Actors on the envoy process's pool. */
	envoyClient: Client<Registry>;
	handlerPool: string;
	envoyPool: string;
	/** The native `handler()` server (the fields above) and the wasm one; wasm only if it started. */
	runtimes: RuntimeSide[];
	/** Tokens for every actor call (see ./auth.ts). */
	auth: BenchCredentials;
	/** A fresh prefix per run, so keys never collide with an earlier run's. */
	runId: string;
	results: ScenarioResult[];
}

export type Scenario = (ctx: BenchContext) => Promise<void>;

/**
 * One `PUT /actors` attempt, and how long it may keep retrying. Generous: the
 * many-actor row creates 100 at once, and on a busy 2-core host single
 * creations took over 30 s.
 */
const PUT_ACTOR_ATTEMPT_TIMEOUT_MS = 30_000;
const PUT_ACTOR_DEADLINE_MS = 120_000;

/**
 * Get-or-create an actor through the management API (`PUT /actors`),
 * returning its id. Under load the engine has answered
 * `no_runner_config_configured` for a pool that exists; get-or-create by key
 * is safe to repeat, so the call goes through the project's retrying client.
 */
export function putActor(
	ctx: Pick<BenchContext, "engineUrl">,
	name: string,
	key: string,
	pool: string,
): Promise<string> {
	return callIdempotent(
		async ({ signal }) => {
			const res = await fetch(`${ctx.engineUrl}/actors?namespace=default`, {
				method: "PUT",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ name, key, runner_name_selector: pool, crash_policy: "sleep" }),
				signal,
			});
			if (!res.ok) throw new Error(`PUT /actors for ${name} ${key}: ${res.status} ${await res.text()}`);
			const body = (await res.json()) as { actor: { actor_id: string } };
			return body.actor.actor_id;
		},
		{ attemptTimeoutMs: PUT_ACTOR_ATTEMPT_TIMEOUT_MS, deadlineMs: PUT_ACTOR_DEADLINE_MS },
	);
}

/** Asks the engine to put an actor to sleep, as it does when the actor is idle. */
export async function requestSleep(ctx: Pick<BenchContext, "engineUrl">, actorId: string): Promise<void> {
	const res = await fetch(`${ctx.engineUrl}/actors/${actorId}/sleep?namespace=default`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: "{}",
	});
	if (!res.ok) throw new Error(`sleep ${actorId} failed: ${res.status} ${await res.text()}`);
}

/** How many of `actorIds` the engine reports asleep. */
export async function countAsleep(ctx: Pick<BenchContext, "engineUrl">, actorIds: string[]): Promise<number> {
	let asleep = 0;
	// The list endpoint takes a comma-separated id list; small pages keep the URL short.
	for (let i = 0; i < actorIds.length; i += ID_PAGE) {
		const ids = actorIds.slice(i, i + ID_PAGE).join(",");
		const res = await fetch(`${ctx.engineUrl}/actors?namespace=default&actor_ids=${ids}`);
		if (!res.ok) throw new Error(`GET /actors failed: ${res.status} ${await res.text()}`);
		const body = (await res.json()) as { actors: Array<{ sleep_ts: number | null }> };
		asleep += body.actors.filter((a) => a.sleep_ts !== null).length;
	}
	return asleep;
}

/** How long a new connection's first call may take, and how often it is opened again. */
const CONNECT_PROBE_TIMEOUT_MS = 15_000;
const CONNECT_ATTEMPTS = 3;

/**
 * Opens a connection and waits for its first call (`probe`), opening it again
 * if that call hangs. In one run, one of sixteen connections opened at once
 * never answered its first call, and the bench waited forever.
 */
export async function readyConnection<C extends { dispose(): Promise<void> }>(
	open: () => C,
	probe: (conn: C) => Promise<unknown>,
	label: string,
): Promise<C> {
	for (let attempt = 1; ; attempt++) {
		const conn = open();
		if (await within(probe(conn), CONNECT_PROBE_TIMEOUT_MS)) return conn;
		void conn.dispose();
		if (attempt >= CONNECT_ATTEMPTS) {
			throw new Error(
				`${label}: the first call did not answer within ${CONNECT_PROBE_TIMEOUT_MS / 1_000} s, ${attempt} times`,
			);
		}
		log(`  ${label}: the first call hung for ${CONNECT_PROBE_TIMEOUT_MS / 1_000} s; connecting again`);
	}
}
