// The actor side of identity: how an actor learns who is calling. What a
// caller may then do is decided in one place, src/actors/access.ts, from the
// actor's access table.
//
// Clients connect (WebSocket or stateless HTTP call alike) with params
// `{ token }`, an access token from `POST /api/auth/sign-in` or
// `POST /api/auth/token`. An actor verifies it once per connection, in
// `createConnState`, and keeps the result as its connection state:
//
//   createConnState: (c, params: unknown) => connStateFor(params, c.request),
//
// rivetkit 2.3.19 runs `onBeforeConnect` and then `createConnState` for every
// connection (WebSocket, stateless HTTP call, queue send), with the same
// params, and a `UserError` thrown by either refuses the connection with its
// code. `onBeforeConnect` cannot hand a value to `createConnState`
// (`node_modules/rivetkit/src/registry/native.ts` discards its result), so the
// examples verify in `createConnState` only and define no `onBeforeConnect`.
//
// Actor→actor calls (coordinator→worker jobs, worker→coordinator reports)
// carry a server token instead, which only code running in this server can
// mint (`serverConnParams()`); access tables list them as `server`.
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
import { type Identity, MAX_TOKEN_LENGTH, signServerToken, TokenError, verifyToken } from "./tokens.ts";

export type { Identity, Role } from "./tokens.ts";

/** Stable `code`s of the refusals below; clients branch on them. */
export type AuthErrorCode = "unauthenticated" | "token_expired" | "forbidden";

/** What every client passes as connection params (`getOrCreate(key, { params })`, `x-rivet-conn-params`). */
export const connParamsSchema = z.object({
	token: z.string().min(1).max(MAX_TOKEN_LENGTH),
});

export type ConnParams = z.output<typeof connParamsSchema>;

function refuse(code: AuthErrorCode, message: string): UserError {
	return new UserError(message, { code });
}

/**
 * Verifies connection params and returns who is calling (through
 * `connStateFor`, in `createConnState`).
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
 * The identity an action runs for, for the guards in src/actors/access.ts:
 *
 * - a call over a connection (WebSocket or stateless HTTP, both through the
 *   connect hooks): that connection's state;
 * - an inspector action call: `INSPECTOR_IDENTITY`. rivetkit 2.3.19 runs it
 *   with the actor's context, no connection, and the inspector's HTTP request
 *   (`makeActorCtx(ctx, jsRequest)` in the inspector route of
 *   `node_modules/rivetkit/src/registry/native.ts`), after
 *   `actorVerifyInspectorAuth` accepted the actor's inspector token;
 * - any other call without a connection: nothing, so the guard refuses it
 *   with `unauthenticated` unless the rule lists `schedule`. In rivetkit
 *   2.3.19's TypeScript layer the only other one is a schedule firing
 *   (`makeActorCtx(ctx, undefined, cancelToken)` in the same file's action
 *   dispatch): it has no request, and the callbacks it runs check a secret of
 *   their own as well. The inspector WebSocket's `ActionRequest` (the
 *   dashboard's "run action") is handled in the Rust core and was not traced;
 *   if it runs with no request, it is refused the same way, or by that
 *   secret (docs/auth.md).
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
 * Connection params for an actor→actor call: a fresh, short-lived server
 * token. Mint one per call (or per connection, through `getParams`), e.g.
 * `c.client<Registry>().worker.getOrCreate([id], { params: await serverConnParams() })`.
 */
export async function serverConnParams(settings: AuthSettings = authSettings()): Promise<ConnParams> {
	const { token } = await signServerToken(settings.authSecret);
	return { token };
}

// The connection state every actor keeps: who is calling and whether the
// connection is a WebSocket that can receive events.

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
