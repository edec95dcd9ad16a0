// The actor side of identity: how an actor learns who is calling.
//
// Clients connect (WebSocket or stateless HTTP call alike) with params
// `{ token }`, an access token from `POST /api/auth/sign-in` or
// `POST /api/auth/token`. An actor verifies it once per connection and keeps
// the result as its connection state:
//
//   onBeforeConnect: async (_c, params: ConnParams) => { await authenticate(params); },
//   createConnState: (_c, params: ConnParams) => authenticate(params),
//   actions: {
//     post: (c, text: string) => {
//       const user = requireUser(c.conn?.state); // throws unauthenticated / token_expired / forbidden
//       ...user.userId...                        // never a user id from the arguments
//     },
//   },
//
// Actor→actor calls (coordinator→worker jobs, worker→coordinator reports)
// carry a server token instead, which only code running in this server can
// mint (`serverConnParams()`), and are checked with `requireServer`.
//
// `c.conn?.state`, not `c.conn.state`: inspector action calls run without a
// connection, and in rivetkit 2.3.19 `c.conn` is then undefined although its
// type says otherwise (see docs/auth.md).
//
// Nothing here runs at import: settings are read on the first call, because
// importing the registry must have no side effects. Nothing here imports an
// actor, so every actor can use it.

import { UserError } from "rivetkit";
import { z } from "zod";
import { type AuthSettings, authSettings } from "./settings.ts";
import { type Identity, MAX_TOKEN_LENGTH, type Role, signServerToken, TokenError, verifyToken } from "./tokens.ts";

export type { Identity, Role } from "./tokens.ts";

/** Stable `code`s of the refusals below; clients branch on them. */
export type AuthErrorCode = "unauthenticated" | "token_expired" | "forbidden";

/** What every client passes as connection params (`getOrCreate(key, { params })`, `x-rivet-conn-params`). */
export const connParamsSchema = z.object({
	token: z.string().min(1).max(MAX_TOKEN_LENGTH),
});

export type ConnParams = z.output<typeof connParamsSchema>;

/** The connection state `authenticate` produces; actors may extend it. */
export type AuthConnState = Identity;

function refuse(code: AuthErrorCode, message: string): UserError {
	return new UserError(message, { code });
}

/**
 * Verifies connection params and returns who is calling. For
 * `onBeforeConnect` and `createConnState`.
 *
 * Accepts user access tokens and server tokens; never a session cookie's
 * token. Throws `UserError` with code `unauthenticated` (no params, no
 * token, malformed, wrong signature, wrong kind, an operator token signed in
 * with a rotated or removed `OPERATOR_TOKEN`) or `token_expired`.
 */
export async function authenticate(params: unknown, settings: AuthSettings = authSettings()): Promise<Identity> {
	const parsed = connParamsSchema.safeParse(params);
	if (!parsed.success) {
		throw refuse("unauthenticated", "connect with params { token }: sign in at POST /api/auth/sign-in first");
	}
	try {
		return await verifyToken(parsed.data.token, ["access", "server"], settings);
	} catch (error) {
		if (error instanceof TokenError) throw refuse(error.code, error.message);
		throw error;
	}
}

/**
 * The caller's identity, if it has one that is still valid and one of
 * `roles`. Checking expiry here, and not only at connect time, bounds how
 * long an open WebSocket can act on an old token: rivetkit verifies params
 * only when a connection opens, and keeps its state for as long as it stays
 * open. The client reconnects with a fresh token on `token_expired`.
 */
export function requireRole(connState: Identity | null | undefined, roles: readonly Role[]): Identity {
	// Inspector calls and actors without the hooks above have no identity.
	if (connState == null || typeof connState.userId !== "string") {
		throw refuse("unauthenticated", "this action needs a signed-in caller");
	}
	if (connState.expiresAt <= Date.now()) {
		throw refuse("token_expired", "the connection's token has expired; reconnect with a new one");
	}
	if (!roles.includes(connState.role)) {
		throw refuse("forbidden", `this action is for: ${roles.join(", ")}`);
	}
	return connState;
}

/** Any signed-in person (users and operators); not the server. */
export function requireUser(connState: Identity | null | undefined): Identity {
	return requireRole(connState, ["user", "operator"]);
}

/** A person signed in with the operator token. */
export function requireOperator(connState: Identity | null | undefined): Identity {
	return requireRole(connState, ["operator"]);
}

/** Another actor of this server (a server token). */
export function requireServer(connState: Identity | null | undefined): Identity {
	return requireRole(connState, ["server"]);
}

/**
 * Connection params for an actor→actor call: a fresh, short-lived server
 * token. Mint one per call (or per connection, through `getParams`), e.g.
 * `c.client<Registry>().worker.getOrCreate([id], { params: await serverConnParams() })`.
 */
export async function serverConnParams(settings: AuthSettings = authSettings()): Promise<ConnParams> {
	const { token } = await signServerToken(settings.authSecret);
	return { token };
}
