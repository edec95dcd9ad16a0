// The engine's runner API: which pools exist, who serves them, and checks on
// serverless endpoints.
//
// rivetkit 2.3.19 calls the processes that host actors "envoys"; the engine's
// REST API still says "runner" in its route and field names. Both lists are
// exposed: `/envoys` is where this app's servers show up, `/runners` only
// lists pre-envoy runners and is empty for a rivetkit 2.3.19 app.
//   GET  /runner-configs[?runner_name=]               pool configs, per datacenter
//   GET  /runners/names, /runners?name=, /envoys?name=
//   POST /runner-configs/serverless-health-check      {url, headers} → success | failure
//   POST /runner-configs/{pool}/refresh-metadata      re-reads `{url}/metadata` now

import { z } from "zod";
import type { EngineConfig } from "./config.ts";
import { DebugInputError, RivetApiError, UnexpectedResponseError, withHint } from "./errors.ts";
import { describeRequest, type RequestSpec, requestJson } from "./http.ts";

const paginationSchema = z.looseObject({ cursor: z.string().nullable() });

export const serverlessConfigSchema = z.looseObject({
	url: z.string(),
	headers: z.record(z.string(), z.string()).optional(),
	request_lifespan: z.number().optional(),
	metadata_poll_interval: z.number().optional(),
	max_runners: z.number().optional(),
	min_runners: z.number().optional(),
	slots_per_runner: z.number().optional(),
});

export const runnerConfigSchema = z.looseObject({
	/** Present for pools the engine reaches over HTTP (this app's `/api/rivet`). */
	serverless: serverlessConfigSchema.optional(),
	/** Present for pools whose processes connect to the engine themselves. */
	normal: z.record(z.string(), z.unknown()).optional(),
	drain_on_version_upgrade: z.boolean().optional(),
	protocol_version: z.number().optional(),
	/** Sticky error from past failures to reach the pool. */
	runner_pool_error: z.unknown().optional(),
});
export type RunnerConfig = z.infer<typeof runnerConfigSchema>;

const runnerConfigsSchema = z.looseObject({
	runner_configs: z.record(z.string(), z.looseObject({ datacenters: z.record(z.string(), runnerConfigSchema) })),
});

export const envoySchema = z.looseObject({
	envoy_key: z.string(),
	pool_name: z.string(),
	version: z.number(),
	/** How many more actors it takes; 0 while draining. */
	slots: z.number(),
	datacenter: z.string().optional(),
	create_ts: z.number(),
	stop_ts: z.number().nullable().optional(),
	last_ping_ts: z.number().nullable().optional(),
	last_rtt: z.number().nullable().optional(),
	metadata: z.unknown().optional(),
});
export type Envoy = z.infer<typeof envoySchema>;

export const runnerSchema = z.looseObject({
	runner_id: z.string(),
	name: z.string(),
	version: z.number().optional(),
	create_ts: z.number(),
});
export type Runner = z.infer<typeof runnerSchema>;

/** Pool name → datacenter name → config. */
export type RunnerConfigs = Record<string, Record<string, RunnerConfig>>;

/** Runner configs for every pool, or only the named ones. */
export async function listRunnerConfigs(
	engine: EngineConfig,
	options: { pools?: readonly string[] } = {},
): Promise<RunnerConfigs> {
	const spec: RequestSpec = {
		method: "GET",
		path: "/runner-configs",
		namespaced: true,
		credentials: { kind: "management" },
	};
	// `runner_name` may repeat, which `RequestSpec.query` cannot express.
	const pools = options.pools ?? [];
	if (pools.length > 0) spec.path += `?${pools.map((p) => `runner_name=${encodeURIComponent(p)}`).join("&")}`;
	const body = await requestJson(engine, spec, runnerConfigsSchema);
	return Object.fromEntries(Object.entries(body.runner_configs).map(([pool, value]) => [pool, value.datacenters]));
}

/** Names of pre-envoy runners. Empty for rivetkit 2.3.19 apps, which connect as envoys. */
export async function listRunnerNames(engine: EngineConfig): Promise<string[]> {
	const body = await requestJson(
		engine,
		{ method: "GET", path: "/runners/names", namespaced: true, credentials: { kind: "management" } },
		z.looseObject({ names: z.array(z.string()), pagination: paginationSchema }),
	);
	return body.names;
}

/** Every pool the engine knows: those with a runner config plus any with live runners. */
export async function listPoolNames(engine: EngineConfig): Promise<string[]> {
	const [configs, runnerNames] = await Promise.all([listRunnerConfigs(engine), listRunnerNames(engine)]);
	return [...new Set([...Object.keys(configs), ...runnerNames])].sort();
}

/** Envoys (the processes hosting actors in rivetkit 2.3.19), newest first. */
export async function listEnvoys(engine: EngineConfig, options: { pool?: string } = {}): Promise<Envoy[]> {
	const body = await requestJson(
		engine,
		{
			method: "GET",
			path: "/envoys",
			namespaced: true,
			credentials: { kind: "management" },
			query: { name: options.pool },
		},
		z.looseObject({ envoys: z.array(envoySchema), pagination: paginationSchema }),
	);
	return body.envoys;
}

/** Pre-envoy runners, newest first (empty for rivetkit 2.3.19 apps). */
export async function listRunners(engine: EngineConfig, options: { pool?: string } = {}): Promise<Runner[]> {
	const body = await requestJson(
		engine,
		{
			method: "GET",
			path: "/runners",
			namespaced: true,
			credentials: { kind: "management" },
			query: { name: options.pool },
		},
		z.looseObject({ runners: z.array(runnerSchema), pagination: paginationSchema }),
	);
	return body.runners;
}

export type HealthCheckResult =
	| { ok: true; version: string }
	| {
			ok: false;
			message: string;
			/** e.g. `{kind: "request_failed"}` or `{kind: "non_success_status", status_code, body}`. */
			metadata: Record<string, unknown>;
	  };

/**
 * Engine 2.3.19 answers `{failure:{error:{message, metadata}}}`; Rivet's
 * debugging guide shows `{message, details}` instead, and the generated
 * `@rivetkit/engine-api-full` client knows neither. Accept every variant.
 */
const healthCheckSchema = z.looseObject({
	success: z.looseObject({ version: z.string() }).optional(),
	failure: z
		.looseObject({
			error: z.looseObject({
				message: z.string(),
				metadata: z.record(z.string(), z.unknown()).optional(),
				details: z.unknown().optional(),
			}),
		})
		.optional(),
});

/**
 * Asks the engine to fetch `{url}/metadata` the way it would before sending
 * actors there. The engine answers 200 either way; a failure carries its reason.
 */
export async function serverlessHealthCheck(
	engine: EngineConfig,
	url: string,
	headers: Record<string, string> = {},
): Promise<HealthCheckResult> {
	if (!URL.canParse(url)) throw new DebugInputError(`not a URL: ${JSON.stringify(url)}`);
	const spec: RequestSpec = {
		method: "POST",
		path: "/runner-configs/serverless-health-check",
		namespaced: true,
		credentials: { kind: "management" },
		body: { url, headers },
	};
	const body = await requestJson(engine, spec, healthCheckSchema);
	if (body.success) return { ok: true, version: body.success.version };
	if (body.failure) {
		const { message, metadata, details } = body.failure.error;
		return { ok: false, message, metadata: metadata ?? (details === undefined ? {} : { details }) };
	}
	throw new UnexpectedResponseError(describeRequest(spec), "neither success nor failure", body);
}

/**
 * Makes the engine re-read the pool's `{url}/metadata` now instead of at the
 * next poll (e.g. right after a deploy, to pick up new actor names/version).
 */
export async function refreshRunnerMetadata(engine: EngineConfig, pool: string): Promise<void> {
	try {
		await requestJson(
			engine,
			{
				method: "POST",
				path: `/runner-configs/${encodeURIComponent(pool)}/refresh-metadata`,
				namespaced: true,
				credentials: { kind: "management" },
				body: {},
			},
			z.looseObject({}),
		);
	} catch (error) {
		// 2.3.19 reports "no serverless runner config" as an opaque 500.
		if (error instanceof RivetApiError && error.id === "core.internal_error") {
			throw withHint(
				error,
				`the engine answers this when pool "${pool}" has no serverless runner config (unknown pool, or a serverful pool)`,
			);
		}
		throw error;
	}
}
