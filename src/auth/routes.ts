// The HTTP side of identity: sign-in, token refresh, and the guards the app
// puts in front of operator routes and the engine's `/api/rivet/start`.
//
//   POST /api/auth/sign-in  { name }  → sets the session cookie, returns an access token
//                                      (limited per client address: 429 rate_limited)
//   POST /api/auth/token              → a fresh access token for the cookie's user
//   POST /api/auth/sign-out           → clears the session cookie
//
// The session cookie is a signed token (src/auth/tokens.ts, audience
// `actor-fleet/session`): HttpOnly so page scripts never see it, SameSite=Lax
// so other sites' requests do not carry it, Secure and `__Host-` prefixed in
// production. Clients never send it to actors: they send the short-lived
// access token as connection params, and fetch a new one per connection.

import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookiePrefixOptions } from "hono/utils/cookie";
import { RateLimiter } from "../actors/rate-limit.ts";
import { HttpError, httpErrorHandler } from "../http-error.ts";
import { clientAddress } from "./client-address.ts";
import { signIn, signInRequestSchema } from "./identity.ts";
import { bearerToken, safeEqual } from "./secrets.ts";
import { type AuthSettings, START_SECRET_HEADER } from "./settings.ts";
import { type Identity, SESSION_TTL_S, signUserToken, TokenError, verifyToken } from "./tokens.ts";

/** The session cookie's name (`__Host-fleet_session` in production). */
export const SESSION_COOKIE = "fleet_session";

/** The engine's start endpoint: the one path `RIVET_START_GUARD=off` opens. */
export const RIVET_START_PATH = "/api/rivet/start";

/** What sign-in and refresh return. */
export interface TokenResponse {
	userId: string;
	name: string;
	role: Identity["role"];
	/** The access token: pass it as connection params `{ token }`. */
	token: string;
	/** When `token` stops being accepted (epoch milliseconds). */
	expiresAt: number;
}

/** 401: who is calling is unknown; the answer says how to authenticate. */
function unauthenticated(message: string): HttpError {
	return new HttpError(401, "unauthenticated", message, {
		headers: { "WWW-Authenticate": 'Bearer realm="actor-fleet"' },
	});
}

/** The refusal of a sign-in over the client address's limit (429). */
export interface RateLimitedResponse {
	code: "rate_limited";
	message: string;
	/** When to try again, in milliseconds; the `Retry-After` header says the same in seconds. */
	retryAfterMs: number;
}

/**
 * A guard's refusal, answered by the guard itself through the one error
 * handler: the guards are mounted on apps without that handler too.
 */
function refuse(c: Context, error: HttpError): Response {
	return httpErrorHandler(error, c);
}

/** 403: the caller is known and may not do this. */
function forbidden(message: string): HttpError {
	return new HttpError(403, "forbidden", message);
}

export function authRoutes(settings: AuthSettings): Hono {
	const routes = new Hono();
	// Its refusals are JSON wherever it is mounted (createApp's handler is the same one).
	routes.onError(httpErrorHandler);
	const prefix: CookiePrefixOptions | undefined = settings.production ? "host" : undefined;
	// Identities cost something: each one is a new set of per-user allowances
	// (posts, connections, submits) everywhere, so one client address may only
	// make so many. In memory, per server process: a deployment of N servers
	// behind a load balancer allows up to N times as many, and a restart
	// forgets. A real identity provider replaces this (docs/auth.md).
	const signIns = new RateLimiter({
		burst: settings.signInLimit.burst,
		perSecond: settings.signInLimit.perHour / 3_600,
	});
	const signInRetryAfterMs = Math.ceil(3_600_000 / settings.signInLimit.perHour);

	routes.use(async (c, next) => {
		await next();
		// Tokens must not be cached by a browser or a proxy.
		c.header("Cache-Control", "no-store");
	});

	routes.post("/sign-in", async (c) => {
		// JSON only: an HTML form on another site cannot send it without a
		// CORS preflight, so no page can sign a visitor in behind their back.
		if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
			throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
		}
		let body: unknown;
		try {
			body = await c.req.json();
		} catch {
			throw new HttpError(400, "invalid_json", "the body is not valid JSON");
		}
		const parsed = signInRequestSchema.safeParse(body);
		if (!parsed.success) throw HttpError.invalidInput(parsed.error, "send { name }");
		// Operator sign-in: the same form, plus `Authorization: Bearer <OPERATOR_TOKEN>`.
		// A wrong token is refused outright rather than quietly signing in as a user.
		const presented = bearerToken(c.req.header("authorization"));
		if (presented !== undefined && !operatorTokenMatches(settings, presented)) {
			throw forbidden("the operator token is not valid");
		}
		// Operators proved they hold OPERATOR_TOKEN and are not limited (the
		// bench signs its load in as an operator). Everyone else is charged
		// only once the request is valid, and a refusal creates nothing.
		if (presented === undefined && !signIns.take(clientAddress(c, settings.clientAddressHeader))) {
			const seconds = Math.ceil(signInRetryAfterMs / 1_000);
			throw new HttpError(429, "rate_limited", `too many sign-ins from this address; try again in ${seconds} s`, {
				headers: { "Retry-After": String(seconds) },
				fields: { retryAfterMs: signInRetryAfterMs } satisfies Pick<RateLimitedResponse, "retryAfterMs">,
			});
		}
		const user = await signIn(parsed.data, { operator: presented !== undefined });
		const subject = { ...user, operatorKey: settings.operatorKey };
		const session = await signUserToken("session", subject, settings.authSecret);
		setCookie(c, SESSION_COOKIE, session.token, {
			httpOnly: true,
			sameSite: "Lax",
			secure: settings.production,
			path: "/",
			maxAge: SESSION_TTL_S,
			...(prefix ? { prefix } : {}),
		});
		const access = await signUserToken("access", subject, settings.authSecret, settings.accessTokenTtlS);
		return c.json({ ...user, token: access.token, expiresAt: access.expiresAt } satisfies TokenResponse);
	});

	routes.post("/token", async (c) => {
		const cookie = getCookie(c, SESSION_COOKIE, prefix);
		if (cookie === undefined) throw unauthenticated("not signed in: POST /api/auth/sign-in");
		let identity: Identity;
		try {
			// The role is decided again here, not copied: an operator's session
			// signed in with an operator token that was rotated or removed since
			// is refused like a forged one (`verifyToken` checks its operator key).
			identity = await verifyToken(cookie, ["session"], settings);
		} catch (error) {
			if (!(error instanceof TokenError)) throw error;
			// Forged, from another secret, simply old, or an operator's whose
			// operator token changed: the browser has to sign in again.
			deleteCookie(c, SESSION_COOKIE, { path: "/", secure: settings.production, ...(prefix ? { prefix } : {}) });
			throw unauthenticated("the session is no longer valid: sign in again");
		}
		if (identity.role === "server") throw unauthenticated("not a user session");
		const user = { userId: identity.userId, name: identity.name, role: identity.role };
		const subject = { ...user, operatorKey: settings.operatorKey };
		const access = await signUserToken("access", subject, settings.authSecret, settings.accessTokenTtlS);
		return c.json({ ...user, token: access.token, expiresAt: access.expiresAt } satisfies TokenResponse);
	});

	routes.post("/sign-out", (c) => {
		deleteCookie(c, SESSION_COOKIE, { path: "/", secure: settings.production, ...(prefix ? { prefix } : {}) });
		return c.body(null, 204);
	});

	return routes;
}

function operatorTokenMatches(settings: AuthSettings, presented: string): boolean {
	return settings.operatorToken !== undefined && safeEqual(presented, settings.operatorToken);
}

/**
 * Operator routes: `Authorization: Bearer <OPERATOR_TOKEN>`, or a signed-in
 * operator's access token (what the web app sends). 401 without a bearer
 * token, 403 with anything else: a wrong or expired token, a user's token, or
 * no operator token set.
 */
export function requireOperatorToken(settings: AuthSettings): MiddlewareHandler {
	return async (c, next) => {
		const presented = bearerToken(c.req.header("authorization"));
		if (presented === undefined) return refuse(c, unauthenticated("send Authorization: Bearer <operator token>"));
		if (!operatorTokenMatches(settings, presented) && !(await isOperatorAccessToken(settings, presented)))
			return refuse(c, forbidden("the operator token is not valid"));
		await next();
	};
}

async function isOperatorAccessToken(settings: AuthSettings, presented: string): Promise<boolean> {
	try {
		return (await verifyToken(presented, ["access"], settings)).role === "operator";
	} catch (error) {
		if (error instanceof TokenError) return false;
		throw error;
	}
}

/**
 * The engine's requests to the serverless endpoint carry the start secret
 * (the runner config's `headers`, see tools/local/runner-config.ts). rivetkit
 * itself checks only the endpoint and namespace a `/start` names, both of
 * which are public, so without this anyone who reaches the app could open
 * actor streams on it. 401 without the header, 403 with a wrong one.
 *
 * `RIVET_START_GUARD=off` turns the check off, for Rivet Compute: its
 * managed pool's runner config is written by the platform and has no field
 * for extra headers, so its engine never sends this one (docs/deploying.md
 * lists the sources and the risk). A production server accepts it only
 * with `RIVET_START_GUARD_ACK=rivet-compute` and without a start secret
 * (src/auth/settings.ts); it then prints one warning when the app is built,
 * and its "listening" line ends in "start guard off".
 */
export function requireStartSecret(settings: AuthSettings): MiddlewareHandler {
	if (settings.startGuard === "off") {
		console.warn(
			"actor-fleet: RIVET_START_GUARD=off: /api/rivet/start accepts calls without x-fleet-start-secret; every other guarded /api/rivet path is refused (docs/deploying.md, Rivet Compute)",
		);
		// Only `/start` opens: it is all Compute's engine needs. Every other
		// path stays shut, rather than checked against a secret that `off`
		// leaves at its public development value.
		return async (c, next) => {
			if (c.req.path.replace(/\/+$/, "") !== RIVET_START_PATH) {
				return refuse(c, unauthenticated("only the engine may call this endpoint"));
			}
			await next();
		};
	}
	return async (c, next) => {
		const presented = c.req.header(START_SECRET_HEADER);
		if (presented === undefined) return refuse(c, unauthenticated("only the engine may call this endpoint"));
		if (!safeEqual(presented, settings.startSecret))
			return refuse(c, forbidden("only the engine may call this endpoint"));
		await next();
	};
}
