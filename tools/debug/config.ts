// Where the debug client talks to, and with which credentials.
//
// The engine is named by `RIVET_ENDPOINT` in one of two forms:
//   http://127.0.0.1:6420                       local engine, no credentials
//   https://<namespace>:<token>@api.rivet.dev   namespace and token in the URL
// `RIVET_NAMESPACE` and `RIVET_TOKEN` override what the URL carries, and
// explicit overrides (CLI flags) override both. The credentials are removed
// from `endpoint` so they never appear in a URL, a log line or an error.

import { DebugInputError } from "./errors.ts";

/** The local engine `npm start` runs (same default as `src/env.ts`). */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:6420";
export const DEFAULT_NAMESPACE = "default";
export const DEFAULT_POOL = "default";

export interface EngineConfig {
	/** The engine's origin (plus any base path), without credentials or trailing slash. */
	endpoint: string;
	namespace: string;
	/** Sent as `Authorization: Bearer` to the management API and as `x-rivet-token` to the gateway. */
	token: string | undefined;
	/** The runner pool new actors are created on (`runner_name_selector`). */
	pool: string;
}

export interface EngineConfigOverrides {
	endpoint?: string | undefined;
	namespace?: string | undefined;
	token?: string | undefined;
	pool?: string | undefined;
}

/**
 * Builds the config from an environment (usually `process.env`) and explicit
 * overrides. Empty strings count as unset, as in a `.env` file.
 */
export function resolveEngineConfig(
	env: Record<string, string | undefined> = process.env,
	overrides: EngineConfigOverrides = {},
): EngineConfig {
	const pick = (...values: Array<string | undefined>): string | undefined =>
		values.find((v) => v !== undefined && v.trim() !== "")?.trim();

	const raw = pick(overrides.endpoint, env.RIVET_ENDPOINT) ?? DEFAULT_ENDPOINT;
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new DebugInputError(`RIVET_ENDPOINT is not a URL: ${JSON.stringify(raw)}`);
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") {
		throw new DebugInputError(`RIVET_ENDPOINT must be http(s), got ${url.protocol}`);
	}
	const urlNamespace = url.username ? decodeURIComponent(url.username) : undefined;
	const urlToken = url.password ? decodeURIComponent(url.password) : undefined;
	url.username = "";
	url.password = "";

	return {
		endpoint: url.toString().replace(/\/+$/, ""),
		namespace: pick(overrides.namespace, env.RIVET_NAMESPACE, urlNamespace) ?? DEFAULT_NAMESPACE,
		token: pick(overrides.token, env.RIVET_TOKEN, urlToken),
		pool: pick(overrides.pool, env.RIVET_POOL) ?? DEFAULT_POOL,
	};
}
