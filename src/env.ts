// Every setting the server itself reads, parsed once with zod at boot.
//
// Server settings only: each actor family parses its own (in its
// `settings.ts`), on first use, so importing the
// registry reads nothing. Nothing here runs on import either: `loadEnv()`
// parses on its first call (from `src/app.ts`, which `src/server.ts` loads).
//
// rivetkit reads its own `RIVET_*` variables lazily, on the first request to
// `registry.handler()`. Parsing them here first means a typo stops the process
// at boot with a clear message instead of surfacing as a failed actor start
// minutes later. The few values rivetkit expects under another name are
// written back to `process.env` (see `applyToRivetkit`).

import { z } from "zod";
import { safeEqual } from "./auth/secrets.ts";
import { type AuthSettings, parseAuthSettings } from "./auth/settings.ts";
import { type BuildInfo, readBuildInfo } from "./build-info.ts";
import { exitOnInvalidSettings, SettingsError, settingsLines, withoutEmpty } from "./settings.ts";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

const port = z.coerce.number().int().min(1).max(65_535);
const url = z.url({ protocol: /^https?$/ });
const nonEmpty = z.string().trim().min(1);
const version = z.coerce.number().int().positive().max(2_147_483_647);

const schema = z.object({
	NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
	/** `PORT` wins over `RIVET_PORT` (most platforms set `PORT`). */
	PORT: port.optional(),
	RIVET_PORT: port.optional(),
	HOST: nonEmpty.default("127.0.0.1"),
	/** The engine. `https://<namespace>:<token>@<host>` carries both credentials. */
	RIVET_ENDPOINT: url.optional(),
	RIVET_TOKEN: nonEmpty.optional(),
	RIVET_NAMESPACE: nonEmpty.optional(),
	RIVET_POOL: nonEmpty.default("default"),
	/** What `/api/rivet/metadata` tells clients to use as their endpoint. */
	RIVET_PUBLIC_ENDPOINT: url.optional(),
	/** The token `/api/rivet/metadata` hands to browsers (Rivet Cloud: a `pk_` token). Public by design. */
	RIVET_PUBLIC_TOKEN: nonEmpty.optional(),
	/** Runner version: Rivet's docs and Rivet Cloud use this name. It wins. */
	RIVET_RUNNER_VERSION: version.optional(),
	/** The name rivetkit 2.3.19 itself reads. */
	RIVET_ENVOY_VERSION: version.optional(),
	RIVET_LOG_LEVEL: z.enum(LOG_LEVELS).default("warn"),
	/** Folder of the built web app served at `/`. */
	WEB_DIST: z.string().default("web/dist"),
	/** `GET /api/fleet` (every actor, keys included): on by default outside production. */
	FLEET_VIEW: z.enum(["on", "off"]).optional(),
});

export type RawEnv = z.input<typeof schema>;

export interface Env {
	nodeEnv: "development" | "production" | "test";
	port: number;
	host: string;
	/** Where the engine is; always set (the local default in development). May carry credentials. */
	endpoint: string;
	/** `RIVET_TOKEN`, else the password in `RIVET_ENDPOINT`. */
	token: string | undefined;
	/** `RIVET_NAMESPACE`, else the user name in `RIVET_ENDPOINT`, else "default". */
	namespace: string;
	pool: string;
	publicEndpoint: string | undefined;
	/** `undefined` only when nothing set it; see `versionSource`. */
	runnerVersion: number | undefined;
	versionSource: "RIVET_RUNNER_VERSION" | "RIVET_ENVOY_VERSION" | "build" | "unset";
	logLevel: (typeof LOG_LEVELS)[number];
	webDist: string;
	/** Whether `GET /api/fleet` answers (see `src/fleet.ts`). */
	fleetView: boolean;
	/** Secrets for sign-in, tokens, `/api/rivet/start` and operator routes (see src/auth/settings.ts). */
	auth: AuthSettings;
}

export const LOCAL_ENGINE_ENDPOINT = "http://127.0.0.1:6420";

/**
 * Parses an environment. Pure, so tests can feed it any record.
 *
 * The runner version comes from RIVET_RUNNER_VERSION, then
 * RIVET_ENVOY_VERSION, then the build (`dist/build-info.json`). In production
 * a missing version is an error: the deploy would not drain old actors.
 */
export function parseEnv(source: Record<string, string | undefined>, build?: BuildInfo): Env {
	const cleaned = withoutEmpty(source);
	const result = schema.safeParse(cleaned);
	const lines = result.success ? [] : settingsLines(result.error);
	let auth: AuthSettings | undefined;
	try {
		auth = parseAuthSettings(cleaned);
	} catch (error) {
		if (!(error instanceof SettingsError)) throw error;
		lines.push(...error.lines);
	}
	if (!result.success) throw new SettingsError(lines);
	const e = result.data;
	const publicTokenProblem = checkPublicToken(e);
	if (publicTokenProblem !== undefined) lines.push(publicTokenProblem);
	const runnerVersion = e.RIVET_RUNNER_VERSION ?? e.RIVET_ENVOY_VERSION ?? build?.runnerVersion;
	const endpoint = e.RIVET_ENDPOINT ?? LOCAL_ENGINE_ENDPOINT;
	const endpointUrl = new URL(endpoint);
	if (e.NODE_ENV === "production" && runnerVersion === undefined) {
		lines.push(
			"  RIVET_RUNNER_VERSION: required in production; run `npm run build` (it bakes one into dist/build-info.json) or set it to a number that grows with every deploy",
		);
	}
	// Every problem at once: a deploy that misses three settings fails once, not three times.
	if (lines.length > 0 || auth === undefined) throw new SettingsError(lines);
	return {
		nodeEnv: e.NODE_ENV,
		port: e.PORT ?? e.RIVET_PORT ?? 3000,
		host: e.HOST,
		endpoint,
		token: e.RIVET_TOKEN ?? (decodeURIComponent(endpointUrl.password) || undefined),
		namespace: e.RIVET_NAMESPACE ?? (decodeURIComponent(endpointUrl.username) || "default"),
		pool: e.RIVET_POOL,
		publicEndpoint: e.RIVET_PUBLIC_ENDPOINT,
		runnerVersion,
		versionSource:
			e.RIVET_RUNNER_VERSION !== undefined
				? "RIVET_RUNNER_VERSION"
				: e.RIVET_ENVOY_VERSION !== undefined
					? "RIVET_ENVOY_VERSION"
					: runnerVersion !== undefined
						? "build"
						: "unset",
		logLevel: e.RIVET_LOG_LEVEL,
		webDist: e.WEB_DIST,
		fleetView: e.FLEET_VIEW === undefined ? e.NODE_ENV !== "production" : e.FLEET_VIEW === "on",
		auth,
	};
}

/**
 * The client token is served to every browser by `/api/rivet/metadata`; the
 * engine token (`RIVET_TOKEN`) must never be. Rivet Cloud's secret tokens
 * start with `sk_` and its public ones with `pk_`. A mix-up here would
 * publish the engine's admin credentials, so the server refuses to boot.
 */
function checkPublicToken(e: z.output<typeof schema>): string | undefined {
	const fromUrl = (value: string | undefined) => {
		if (value === undefined) return undefined;
		const password = decodeURIComponent(new URL(value).password);
		return password === "" ? undefined : password;
	};
	const secret = e.RIVET_TOKEN ?? fromUrl(e.RIVET_ENDPOINT);
	for (const [name, token] of [
		["RIVET_PUBLIC_TOKEN", e.RIVET_PUBLIC_TOKEN],
		["RIVET_PUBLIC_ENDPOINT", fromUrl(e.RIVET_PUBLIC_ENDPOINT)],
	] as const) {
		if (token === undefined) continue;
		if (token.startsWith("sk_")) {
			return `  ${name}: carries a secret token (sk_…); browsers receive it, so use the public pk_ token`;
		}
		if (secret !== undefined && safeEqual(token, secret)) {
			return `  ${name}: carries the same token as RIVET_TOKEN; browsers receive it, so use a separate public token`;
		}
	}
	return undefined;
}

/**
 * Hands the parsed values to rivetkit, which reads `process.env` itself.
 * Runs before the registry serves its first request.
 */
export function applyToRivetkit(env: Env, target: Record<string, string | undefined> = process.env): void {
	target.RIVET_ENDPOINT ??= env.endpoint;
	target.RIVET_POOL = env.pool;
	target.RIVET_LOG_LEVEL = env.logLevel;
	if (env.runnerVersion !== undefined) target.RIVET_ENVOY_VERSION = String(env.runnerVersion);
	// rivetkit would otherwise spawn `rivet-services` (a no-op in 2.3.19) next
	// to a local engine; an orphaned one blocks every actor on the next start.
	target.RIVET_RUN_SERVICES ??= "0";
	// This process never spawns an engine: the launcher or the operator does.
	target.RIVETKIT_ENGINE_SPAWN ??= "never";
	// Clients that reach the app's `/api/rivet` learn the engine's address from
	// `/metadata`; without it they would call `/api/rivet/gateway/...` and 404.
	if (env.publicEndpoint !== undefined) target.RIVET_PUBLIC_ENDPOINT = env.publicEndpoint;
	else target.RIVET_PUBLIC_ENDPOINT ??= stripCredentials(env.endpoint);
}

/** `https://ns:token@host` → `https://host`: credentials stay server-side. */
export function stripCredentials(endpoint: string): string {
	const u = new URL(endpoint);
	u.username = "";
	u.password = "";
	return u.toString().replace(/\/$/, "");
}

let loaded: Env | undefined;

/**
 * The server's settings from `process.env`, parsed on the first call and
 * handed to rivetkit (`applyToRivetkit`); later calls return the same object.
 * An invalid environment stops the process with one line per bad variable.
 */
export function loadEnv(): Env {
	if (loaded !== undefined) return loaded;
	loaded = exitOnInvalidSettings(() => parseEnv(process.env, readBuildInfo()));
	applyToRivetkit(loaded);
	return loaded;
}
