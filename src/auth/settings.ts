// The secrets identity depends on, parsed with zod from the environment.
//
// Two readers share this one parser:
// - `src/env.ts` calls `parseAuthSettings` at boot, so a missing or short
//   secret stops the server before it listens;
// - the actor-side module (`src/auth/connection.ts`) calls `authSettings()`
//   on first use. Actors never read these at import: importing the registry
//   must have no side effects (tests, scripts and the web app's types import
//   it).
//
// Development gets fixed, clearly labelled values instead of random ones:
// several app servers (the local cluster, a second test server) share one
// engine, and a token minted by one of them must verify on another, so every
// process has to agree on the secret without anyone setting it. Production
// refuses to boot without real values, and refuses these development values.
// So does a development server that listens on anything but loopback (`HOST`
// 0.0.0.0, a LAN address): the development values are public, so anyone who
// can reach such a server could sign tokens for it.

import { createHmac } from "node:crypto";
import { z } from "zod";
import { parseSettings, SettingsError } from "../settings.ts";
import { ACCESS_TOKEN_TTL_S } from "./tokens.ts";

/** Shortest secret accepted for `AUTH_SECRET`, `RIVET_START_SECRET` and `OPERATOR_TOKEN`, in characters. */
export const MIN_SECRET_LENGTH = 32;

/** Development only: signs tokens when `AUTH_SECRET` is unset. Public, so worthless in production. */
export const DEV_AUTH_SECRET = "dev-only-auth-secret-NOT-FOR-PRODUCTION-0001";
/** Development only: what the engine must send as `x-fleet-start-secret` when `RIVET_START_SECRET` is unset. */
export const DEV_START_SECRET = "dev-only-start-secret-NOT-FOR-PRODUCTION-01";
/** Development only: the operator bearer token when `OPERATOR_TOKEN` is unset. */
export const DEV_OPERATOR_TOKEN = "dev-only-operator-token-NOT-FOR-PRODUCTION-1";

/** Shortest `DEV_ACCESS_TOKEN_TTL_S`, in seconds: the web app renews a minute before expiry. */
export const MIN_DEV_ACCESS_TOKEN_TTL_S = 30;

/** Sign-ins one client address may make at once, from a full allowance (`SIGN_IN_BURST` overrides it). */
export const DEFAULT_SIGN_IN_BURST = 10;
/** Sign-ins a client address regains per hour: one a minute (`SIGN_INS_PER_HOUR` overrides it). */
export const DEFAULT_SIGN_INS_PER_HOUR = 60;

/**
 * What `RIVET_START_GUARD_ACK` must say before a production server accepts
 * `RIVET_START_GUARD=off`. A second variable rather than Rivet Compute's own
 * `_RIVET_COMPUTE=1` marker: the only published trace of that marker is a
 * maintainers' note in one of Rivet's examples (docs/deploying.md), so a
 * server that relied on it could refuse to boot on the one platform `off`
 * exists for.
 */
export const START_GUARD_ACK = "rivet-compute";

/** The header the engine sends on every serverless request (written into the runner config). */
export const START_SECRET_HEADER = "x-fleet-start-secret";

const secret = z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`);

const schema = z.object({
	NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
	/** The address the server listens on (src/env.ts reads it too): development values need a loopback one. */
	HOST: z.string().trim().min(1).default("127.0.0.1"),
	/** Signs users' access tokens, session cookies and server tokens (HS256). Shared by every app server. */
	AUTH_SECRET: secret.optional(),
	/** The engine proves it is the engine on `/api/rivet/start` with this (header `x-fleet-start-secret`). */
	RIVET_START_SECRET: secret.optional(),
	/**
	 * `secret` (the default): `/api/rivet/start` needs `x-fleet-start-secret`.
	 * `off`: it needs nothing, for a platform whose engine cannot send that
	 * header (Rivet Compute's managed pools, docs/deploying.md); the server
	 * says so at boot. Any other value is refused.
	 */
	RIVET_START_GUARD: z.enum(["secret", "off"]).default("secret"),
	/**
	 * Production only, and only with `RIVET_START_GUARD=off`: must be
	 * `rivet-compute`, a second, deliberate setting so that one stray variable
	 * cannot open `/api/rivet/start` (see `START_GUARD_ACK`).
	 */
	RIVET_START_GUARD_ACK: z.literal(START_GUARD_ACK).optional(),
	/** Bearer token for operator routes (`GET /api/fleet`) and operator sign-in. Unset in production: those are closed. */
	OPERATOR_TOKEN: secret.optional(),
	/**
	 * Development only: a shorter access-token lifetime, in seconds, so a long
	 * run (such as the lab's soak) sees tokens expire within minutes. Refused in production.
	 */
	DEV_ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(MIN_DEV_ACCESS_TOKEN_TTL_S).max(ACCESS_TOKEN_TTL_S).optional(),
	/** Sign-ins per client address at once (see `DEFAULT_SIGN_IN_BURST`). The test harness raises it: its users all sign in from 127.0.0.1. */
	SIGN_IN_BURST: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_SIGN_IN_BURST),
	/** Sign-ins per client address regained per hour (see `DEFAULT_SIGN_INS_PER_HOUR`). */
	SIGN_INS_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000_000).default(DEFAULT_SIGN_INS_PER_HOUR),
	/**
	 * Behind a reverse proxy: the header the proxy sets to the client's address
	 * (`x-real-ip`, `fly-client-ip`, `cf-connecting-ip`, or `x-forwarded-for`,
	 * of which the last entry, the one the proxy added, is used). Unset (the
	 * default): the address of the TCP peer. Set it only when every request
	 * comes through that proxy, which overwrites the header: anyone else can
	 * send it with any value.
	 */
	CLIENT_ADDRESS_HEADER: z
		.string()
		.trim()
		.toLowerCase()
		.regex(/^[a-z0-9-]+$/, "must be a header name")
		.optional(),
});

export interface AuthSettings {
	production: boolean;
	authSecret: string;
	startSecret: string;
	/** Whether `/api/rivet/start` checks `startSecret` (`RIVET_START_GUARD`; see `requireStartSecret`). */
	startGuard: "secret" | "off";
	/** `undefined` in production (or off loopback) when unset: operator routes then refuse everyone. */
	operatorToken: string | undefined;
	/**
	 * Which operator token an operator's session and access tokens were signed
	 * in with (`operatorKeyFor`): tokens signed in with another one, or with
	 * none, are refused, so rotating or removing `OPERATOR_TOKEN` ends every
	 * operator session. `undefined` when `operatorToken` is.
	 */
	operatorKey: string | undefined;
	/** Lifetime of the access tokens this server issues, in seconds (`ACCESS_TOKEN_TTL_S` unless shortened in development). */
	accessTokenTtlS: number;
	/** How many sign-ins one client address may make: `burst` at once, regaining `perHour`. */
	signInLimit: { burst: number; perHour: number };
	/** The trusted proxy's client-address header (lower case), or `undefined`: the TCP peer's address. */
	clientAddressHeader: string | undefined;
}

/** Parses the auth settings out of an environment. Pure, so tests can feed it any record. */
export function parseAuthSettings(source: Record<string, string | undefined>): AuthSettings {
	const e = parseSettings(schema, source);
	const production = e.NODE_ENV === "production";
	const lines: string[] = [];
	// A start secret next to `off` would be read by nothing: whoever set it
	// believes `/start` is guarded. Refused everywhere, so the mistake shows in
	// development too.
	if (e.RIVET_START_GUARD === "off" && e.RIVET_START_SECRET !== undefined) {
		lines.push("  RIVET_START_GUARD: off ignores RIVET_START_SECRET; unset one of them");
	}
	// Off loopback, development follows production's rules on secrets.
	const strict = production || !isLoopbackHost(e.HOST);
	if (strict) {
		const why = production ? "in production" : `when HOST (${e.HOST}) is not a loopback address`;
		const required = [
			["AUTH_SECRET", e.AUTH_SECRET, DEV_AUTH_SECRET, "signs every user's token"],
			// With the guard off nothing reads the start secret, so it is not required.
			...(e.RIVET_START_GUARD === "secret"
				? ([
						["RIVET_START_SECRET", e.RIVET_START_SECRET, DEV_START_SECRET, "keeps strangers off /api/rivet/start"],
					] as const)
				: []),
		] as const;
		for (const [name, value, devValue, purpose] of required) {
			if (value === undefined) lines.push(`  ${name}: required ${why} (it ${purpose})`);
			else if (value === devValue) lines.push(`  ${name}: the development default is public; set a random value`);
		}
		if (e.OPERATOR_TOKEN === DEV_OPERATOR_TOKEN) {
			lines.push("  OPERATOR_TOKEN: the development default is public; set a random value or leave it unset");
		}
		if (production && e.DEV_ACCESS_TOKEN_TTL_S !== undefined) {
			lines.push("  DEV_ACCESS_TOKEN_TTL_S: development only; unset it");
		}
		if (production && e.RIVET_START_GUARD === "off" && e.RIVET_START_GUARD_ACK === undefined) {
			lines.push(
				`  RIVET_START_GUARD: off in production also needs RIVET_START_GUARD_ACK=${START_GUARD_ACK} (only for Rivet Compute, whose engine cannot send ${START_SECRET_HEADER}; docs/deploying.md)`,
			);
		}
	}
	if (lines.length > 0) throw new SettingsError(lines);
	const authSecret = e.AUTH_SECRET ?? DEV_AUTH_SECRET;
	const operatorToken = e.OPERATOR_TOKEN ?? (strict ? undefined : DEV_OPERATOR_TOKEN);
	return {
		production,
		authSecret,
		startSecret: e.RIVET_START_SECRET ?? DEV_START_SECRET,
		startGuard: e.RIVET_START_GUARD,
		operatorToken,
		operatorKey: operatorToken === undefined ? undefined : operatorKeyFor(authSecret, operatorToken),
		accessTokenTtlS: e.DEV_ACCESS_TOKEN_TTL_S ?? ACCESS_TOKEN_TTL_S,
		signInLimit: { burst: e.SIGN_IN_BURST, perHour: e.SIGN_INS_PER_HOUR },
		clientAddressHeader: e.CLIENT_ADDRESS_HEADER,
	};
}

/**
 * Whether `host` only accepts connections from this machine: `localhost`,
 * 127.0.0.0/8 or ::1. Anything else (0.0.0.0, ::, a LAN address, a host
 * name) may be reachable from elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
	const bare = host
		.trim()
		.toLowerCase()
		.replace(/^\[(.*)\]$/, "$1");
	return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * The operator key carried by an operator's tokens (claim `opk`): an HMAC of
 * the operator token under the auth secret. It names which operator token a
 * session was signed in with without revealing it (tokens are readable by
 * whoever holds them), and changes when either secret does.
 */
export function operatorKeyFor(authSecret: string, operatorToken: string): string {
	return createHmac("sha256", authSecret).update(`actor-fleet/operator-key/${operatorToken}`).digest("base64url");
}

let cached: AuthSettings | undefined;

/**
 * This process's settings, parsed from `process.env` on first use and kept.
 * The server has already validated the same variables at boot (src/env.ts).
 */
export function authSettings(): AuthSettings {
	cached ??= parseAuthSettings(process.env);
	return cached;
}
