// The connection state every example actor keeps: who is calling (verified
// from the token in the connection params, src/auth/connection.ts) and
// whether the connection is a WebSocket that can receive events.

import { authenticate, type Identity, type Role, requireRole } from "../auth/connection.ts";

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
