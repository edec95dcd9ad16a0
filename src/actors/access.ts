// The one place that decides who may call an action, receive an event or
// publish to a queue. Each actor family's contract.ts lists its rules in an
// `*_ACCESS` table (the vocabulary is ./access-contract.ts); this module turns
// a rule into a yes or a refusal, so no actor writes its own check:
//
//   createConnState: (c, params: unknown) => connStateFor(params, c.request),
//   actions: {
//     rename: (c, title: string) => {
//       const me = guard(c, NOTES_ACCESS.rename, { owner: c.state.owner });
//       ...me.userId...                   // never a user id from the arguments
//     },
//   },
//
// Who is calling comes from src/auth/connection.ts (`callerOf`: the
// connection's verified identity, the inspector's operator-level identity,
// or nothing for the actor's own schedule). What the caller may do comes
// from the rule. An owner is whatever the actor records as its owner (the
// first writer claims it through `claimOwner` below); the guard only compares.
//
// Lives beside the tables rather than in src/auth/ because it speaks their
// language (owner, self, schedule) and needs an actor's scope; src/auth/
// stays about tokens and identity and imports no actor vocabulary.

import { UserError } from "rivetkit";
import {
	type ActorConnState,
	type AuthErrorCode,
	type CallerContext,
	callerOf,
	type Identity,
} from "../auth/connection.ts";
import type { AccessRule, Caller } from "./access-contract.ts";

/** What an actor tells the guard about the data a call touches. */
export interface AccessScope {
	/**
	 * The owner's user id, or null while nothing is owned (then any signed-in
	 * person passes an `owner` rule: their write will claim it). Include a
	 * claim in progress, so a second user is refused while the first one's
	 * claim awaits its quota.
	 */
	owner?: string | null | undefined;
}

export type Verdict = { allowed: true } | { allowed: false; code: AuthErrorCode; message: string };

const ALLOWED: Verdict = { allowed: true };

/** People: signed in with a user or operator access token (not the server's token). */
function isPerson(who: Identity): boolean {
	return who.role === "user" || who.role === "operator";
}

function admits(caller: Caller, who: Identity, scope: AccessScope): boolean {
	switch (caller) {
		case "user":
		case "self":
			// `self` differs from `user` in what the action touches (the caller's
			// own entries, keyed by the token's user id), not in who may call.
			return isPerson(who);
		case "owner": {
			const owner = scope.owner ?? null;
			return isPerson(who) && (owner === null || owner === who.userId);
		}
		case "operator":
			return who.role === "operator";
		case "server":
			return who.role === "server";
		case "schedule":
			// A schedule firing has no identity; a caller that has one is not it.
			return false;
	}
}

function isIdentity(value: unknown): value is Identity {
	if (typeof value !== "object" || value === null) return false;
	const v = value as Record<string, unknown>;
	return typeof v.userId === "string" && typeof v.role === "string" && typeof v.expiresAt === "number";
}

/**
 * The decision, with nothing thrown: whether `who` (as `callerOf` gives it)
 * may make a call that `rule` governs.
 *
 * - No identity: allowed only where the rule lists `schedule` (the actor's
 *   own schedule is the only call without one; the action then checks the
 *   secret that only its schedule holds), else `unauthenticated`.
 * - An expired token: `token_expired`. Checked on every call, not only at
 *   connect time, because rivetkit keeps a WebSocket's state for as long as
 *   it stays open; the client reconnects with a fresh token.
 * - Otherwise allowed when one of the rule's callers admits it, else `forbidden`.
 */
export function decide(rule: AccessRule, who: unknown, scope: AccessScope = {}, now = Date.now()): Verdict {
	if (who === undefined && rule.callers.includes("schedule")) return ALLOWED;
	if (!isIdentity(who)) {
		return { allowed: false, code: "unauthenticated", message: "this call needs a signed-in caller" };
	}
	if (who.expiresAt <= now) {
		return {
			allowed: false,
			code: "token_expired",
			message: "the connection's token has expired; reconnect with a new one",
		};
	}
	if (rule.callers.some((caller) => admits(caller, who, scope))) return ALLOWED;
	return { allowed: false, code: "forbidden", message: `this call is for: ${rule.callers.join(", ")}` };
}

/** `decide`, throwing its refusal as a `UserError` with the verdict's stable `code`. */
export function requireAccess(rule: AccessRule, who: unknown, scope: AccessScope = {}): Identity {
	const verdict = decide(rule, who, scope);
	if (!verdict.allowed) throw new UserError(verdict.message, { code: verdict.code });
	// `decide` allows no identity only for schedule rules, which use `guardSchedule`.
	if (!isIdentity(who)) throw new UserError("this call needs a signed-in caller", { code: "unauthenticated" });
	return who;
}

/**
 * For the first line of an action: the caller's identity if `rule` lets it
 * in, else a `UserError` (`unauthenticated`, `token_expired`, `forbidden`)
 * thrown before the action has changed anything.
 */
export function guard(c: CallerContext<Identity>, rule: AccessRule, scope: AccessScope = {}): Identity {
	return requireAccess(rule, callerOf(c), scope);
}

/**
 * For an action that only the actor's schedule calls (`callers: ["schedule"]`):
 * refuses every caller that has an identity. The action must still check the
 * secret it gave its schedule, since the engine lets any client call any action.
 */
export function guardSchedule(c: CallerContext<Identity>, rule: AccessRule & { callers: readonly ["schedule"] }): void {
	const verdict = decide(rule, callerOf(c));
	if (!verdict.allowed) throw new UserError(verdict.message, { code: verdict.code });
}

/**
 * For a queue's `canPublish` or an event's `canSubscribe`. rivetkit 2.3.19
 * types those hooks' context loosely, so the connection's state is read as
 * unknown and checked here.
 */
export function hookGuard(rule: AccessRule): (c: { conn?: { state: unknown } | undefined }) => true {
	return (c) => {
		requireAccess(rule, c.conn?.state);
		return true;
	};
}

/** What `sendToAllowed` needs of a connection. */
export interface EventConn {
	readonly id: string;
	readonly state: ActorConnState;
	disconnect(reason?: string): Promise<void>;
}

/**
 * Calls `send` for every WebSocket connection that `rule` lets receive the
 * event, skipping `exceptConnId`. Per connection rather than `broadcast`,
 * because rivetkit checks a token only when the connection opens: this keeps
 * a connection whose token expired, or a reader who lost access, from
 * reading on. With `closeExpired`, a connection whose token expired is also
 * closed (its client reconnects with a fresh token if it has one).
 */
export function sendToAllowed<C extends EventConn>(
	conns: Iterable<C>,
	rule: AccessRule,
	scope: AccessScope,
	send: (conn: C) => void,
	options: { exceptConnId?: string; closeExpired?: boolean } = {},
): void {
	const now = Date.now();
	for (const conn of conns) {
		if (conn.id === options.exceptConnId || !conn.state.live) continue;
		const verdict = decide(rule, conn.state, scope, now);
		if (verdict.allowed) send(conn);
		else if (verdict.code === "token_expired" && options.closeExpired) closeExpired(conn);
	}
}

/** Whether a connection's token is still valid. */
export function stillValid(state: Identity, now = Date.now()): boolean {
	return state.expiresAt > now;
}

/** Closes a WebSocket whose token has expired; its client reconnects with a fresh token if it can get one. */
export function closeExpired(conn: { disconnect(reason?: string): Promise<void> }): void {
	// Not awaited: closing is the runtime's business, and a connection
	// already closing may refuse.
	conn.disconnect("token_expired").catch(() => {});
}

/** The part of an actor's state and vars that `claimOwner` keeps. */
export interface OwnedContext {
	state: { owner?: string | null };
	vars: { claim: PendingClaim | null };
}

/** A first write's claim while its user's quota is asked. In memory only: the owner is saved with the write. */
export interface PendingClaim {
	userId: string;
	/** Resolves once the owner is recorded; rejects with the quota's refusal. */
	charged: Promise<void>;
	/** Resolves once `charged` settles, either way. */
	settled: Promise<void>;
}

/** The recorded owner, else the user whose claim is in progress, else null: the scope owner rules compare with. */
export function ownerOf(c: OwnedContext): string | null {
	// State saved before owners existed has no `owner` field: "no owner yet".
	return c.state.owner ?? c.vars.claim?.userId ?? null;
}

/**
 * Makes `me` the owner of data that has none, before the write that claims
 * it; the first writer becomes the owner. Returns whether this write claimed
 * it (alone or with a concurrent write of the same user), so the caller
 * saves the state with the write.
 *
 * A user's claim first runs `charge` (their quota accepting one more
 * creation, keyed by the actor so a retry is not charged again). A refusal
 * is thrown before anything is written and leaves no owner, so the next
 * writer may claim. Operators have no quota and claim at once: data only an
 * operator wrote would otherwise stay claimable by the first user who writes.
 *
 * While a claim waits, every other write waits for it: the same user's
 * writes share its charge and its refusal; another user's write goes on once
 * it settles, checked against `rule` again with the owner the claim
 * recorded (so an `owner` rule then refuses it, a `user` rule lets it write
 * without claiming). The owner is recorded in the charge's own continuation, before
 * any waiter resumes, so two racing first writes cannot both claim.
 */
export async function claimOwner(
	c: OwnedContext,
	me: Identity,
	rule: AccessRule,
	charge: () => Promise<void>,
): Promise<boolean> {
	for (;;) {
		if ((c.state.owner ?? null) !== null) {
			// Another write may have claimed it while this one waited.
			requireAccess(rule, me, { owner: c.state.owner });
			return false;
		}
		const pending = c.vars.claim;
		if (pending === null) break;
		if (pending.userId === me.userId) {
			await pending.charged;
			return true;
		}
		await pending.settled;
	}
	if (me.role === "operator") {
		c.state.owner = me.userId;
		return true;
	}
	const charged = charge().then(
		() => {
			c.state.owner ??= me.userId;
			c.vars.claim = null;
		},
		(refusal: unknown) => {
			c.vars.claim = null;
			throw refusal;
		},
	);
	c.vars.claim = { userId: me.userId, charged, settled: charged.catch(() => {}) };
	await charged;
	return true;
}
