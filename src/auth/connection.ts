// The actor side of identity: how an actor learns who is calling.
//
// Clients connect (WebSocket or stateless HTTP call alike) with params
// `{ token }`, an access token from `POST /api/auth/sign-in` or
// `POST /api/auth/token`. An actor verifies it once per connection and keeps
// the result as its connection state:
//
//   onBeforeConnect: async (c, params: unknown) => { await connStateFor(params, c.request); },
//   createConnState: (c, params: unknown) => connStateFor(params, c.request),
//   actions: {
//     post: (c, text: string) => {
//       const user = requireUser(callerOf(c)); // throws unauthenticated / token_expired / forbidden
//       ...user.userId...                        // never a user id from the arguments
//     },
//   },
//
// Actor→actor calls (coordinator→worker jobs, worker→coordinator reports)
// carry a server token instead, which only code running in this server can
// mint (`serverConnParams()`), and are checked with `requireServer`.
//
// Actions take the caller from `callerOf(c)`, never from `c.conn.state`
// directly: inspector action calls (`POST /gateway/{id}/inspector/action/{name}`
// with the actor's inspector token) run without a connection, and in rivetkit
// 2.3.19 `c.conn` is then undefined although its type says otherwise.
// `callerOf` gives those calls the operator-level `inspector` identity, and
// every other call without a connection (the actor's own schedule) no
// identity at all (see docs/auth.md).
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
 * Who makes an inspector action call: an operator-level principal. Only the
 * holder of the actor's inspector token can make such a call (rivetkit checks
 * the token before it runs the action), and that holder can already replace
 * the actor's whole state with `PATCH /inspector/state`. Role `operator`, so
 * every check that lets operators in lets it in; user id `inspector`, which
 * no sign-in issues (those are `u_…` or a provider's prefixed ids), so it
 * never owns or impersonates anyone's data.
 */
export const INSPECTOR_IDENTITY: Readonly<Identity> = Object.freeze({
	userId: "inspector",
	name: "inspector",
	role: "operator",
	expiresAt: Number.MAX_SAFE_INTEGER,
});

/**
 * What `callerOf` reads from an action's context: its connection, if any,
 * and the HTTP request that started the call, if any.
 */
export interface CallerContext<S> {
	readonly conn?: { readonly state: S } | undefined;
	readonly request?: Request | undefined;
}

/**
 * The identity an action runs for, for `requireUser` / `requireRole`:
 *
 * - a call over a connection (WebSocket or stateless HTTP, both through the
 *   connect hooks): that connection's state;
 * - an inspector action call: `INSPECTOR_IDENTITY`. rivetkit 2.3.19 runs it
 *   with the actor's context, no connection, and the inspector's HTTP request
 *   (`makeActorCtx(ctx, jsRequest)` in the inspector route of
 *   `node_modules/rivetkit/src/registry/native.ts`), after
 *   `actorVerifyInspectorAuth` accepted the actor's inspector token;
 * - any other call without a connection: nothing, so the action refuses it
 *   with `unauthenticated`. In rivetkit 2.3.19's TypeScript layer the only
 *   other one is a schedule firing (`makeActorCtx(ctx, undefined, cancelToken)`
 *   in the same file's action dispatch): it has no request, and the callbacks
 *   it runs check a secret of their own instead. The inspector WebSocket's
 *   `ActionRequest` (the dashboard's "run action") is handled in the Rust core
 *   and was not traced; if it runs with no request, it is refused the same way
 *   (docs/auth.md).
 *
 * Both conditions are checked (no connection, and a request to an
 * `/inspector/action/` path), so a future rivetkit path that runs actions
 * without a connection gets no identity rather than the inspector's.
 */
export function callerOf<S>(c: CallerContext<S>): S | Identity | undefined {
	if (c.conn !== undefined) return c.conn.state;
	return isInspectorActionRequest(c.request) ? INSPECTOR_IDENTITY : undefined;
}

/** Whether `request` is a `POST …/inspector/action/{name}` (with or without the gateway's `/gateway/{id}` prefix). */
function isInspectorActionRequest(request: Request | undefined): boolean {
	if (request === undefined || request.method !== "POST") return false;
	return /^(?:\/gateway\/[^/]+)?\/inspector\/action\/[^/]+\/?$/.test(new URL(request.url).pathname);
}

/**
 * The caller's identity, if it has one that is still valid and one of
 * `roles`. Checking expiry here, and not only at connect time, bounds how
 * long an open WebSocket can act on an old token: rivetkit verifies params
 * only when a connection opens, and keeps its state for as long as it stays
 * open. The client reconnects with a fresh token on `token_expired`.
 */
export function requireRole(connState: Identity | null | undefined, roles: readonly Role[]): Identity {
	// Schedule callbacks and actors without the hooks above have no identity.
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

// The connection state every actor keeps: who is calling and whether the
// connection is a WebSocket that can receive events; and the checks the
// queue and event hooks run on it.

export interface ActorConnState extends Identity {
	/** True for a WebSocket connection, false for a stateless HTTP call (which receives no events). */
	live: boolean;
}

/**
 * For `createConnState`: verifies `params` (throws `unauthenticated` /
 * `token_expired`) and notes whether `request` opens a WebSocket.
 */
export async function connStateFor(params: unknown, request: Request | undefined): Promise<ActorConnState> {
	const identity = await authenticate(params);
	return { ...identity, live: request?.headers.get("upgrade")?.toLowerCase() === "websocket" };
}

/** Whether a connection's token is still valid; events go only to connections for which this holds. */
export function stillValid(state: Identity, now = Date.now()): boolean {
	return state.expiresAt > now;
}

/**
 * What a `canPublish` / `canSubscribe` hook receives, as far as these hooks
 * read it. rivetkit 2.3.19 types those hooks' context loosely (`any`), so
 * this names the one field they use.
 */
export interface HookContext {
	conn?: { state: unknown } | undefined;
}

function isIdentity(state: unknown): state is Identity {
	if (typeof state !== "object" || state === null) return false;
	const s = state as Record<string, unknown>;
	return typeof s.userId === "string" && typeof s.role === "string" && typeof s.expiresAt === "number";
}

/**
 * For `canPublish` / `canSubscribe`: true when the connection's identity has
 * one of `roles` and a valid token, else throws the same refusal as
 * `requireRole` (`unauthenticated`, `token_expired`, `forbidden`).
 */
export function allowRoles(c: HookContext, roles: readonly Role[]): true {
	const state = c.conn?.state;
	requireRole(isIdentity(state) ? state : undefined, roles);
	return true;
}
