// Who owns a counter and who may read or write it: the first writer claims
// it (after its user's quota accepts one more counter), its owner and
// operators write, its owner and operators read (anyone while it has no
// owner), and `newCount` goes only to connections allowed to read.

import { type ActionContextOf, type ActorContextOf, UserError } from "rivetkit";
import { callerOf, type Identity, requireUser, stillValid } from "../../auth/connection.ts";
import type { Registry } from "../../registry.ts";
import { chargeCreationFor } from "../quota/charge.ts";

import type { counter } from "./counter.ts";
import type { CounterState } from "./state.ts";

export type CounterContext = ActorContextOf<typeof counter>;
export type CounterActionContext = ActionContextOf<typeof counter>;

/**
 * The owner's user id, or null. State saved before owners existed has no
 * `owner` field at all; it reads as "no owner yet".
 */
export function ownerOf(c: CounterContext): string | null {
	return c.state.owner ?? null;
}

/** Whether nothing was ever written to this counter (no owner, no count, no timer). */
export function holdsNothing(state: CounterState): boolean {
	return (state.owner ?? null) === null && state.count === 0 && Object.keys(state.timers).length === 0;
}

/** Whether `who` may read this counter: its owner, an operator, or anyone while it has no owner. */
export function mayRead(c: CounterContext, who: Identity): boolean {
	const owner = ownerOf(c);
	return who.role === "operator" || owner === null || owner === who.userId;
}

export function requireReader(c: CounterActionContext): Identity {
	const me = requireUser(callerOf(c));
	if (!mayRead(c, me)) throw new UserError("this counter belongs to another user", { code: "forbidden" });
	return me;
}

/**
 * The owner or an operator. The first user to write a counter that has no
 * owner becomes its owner; the claim is made in memory here, before any
 * await, so two racing first writers cannot both claim it, and it is saved
 * with the write itself.
 */
export function requireWriter(c: CounterActionContext): Identity {
	const me = requireUser(callerOf(c));
	if (me.role === "operator") return me;
	const owner = ownerOf(c) ?? c.vars.claim?.userId ?? null;
	if (owner !== null && owner !== me.userId) {
		throw new UserError("this counter belongs to another user", { code: "forbidden" });
	}
	return me;
}

/**
 * Charges the creation of this counter to the first writer's quota
 * (src/actors/quota: `COUNTERS_CREATED_PER_HOUR`), once, before the write
 * that claims it; refuses with `rate_limited` and `retryAfterMs`. Concurrent
 * first writes of the same user share one charge. The quota keys the charge
 * by this actor's id, so a write that fails after it (a crash, a rate limit)
 * and is retried is not charged again.
 */
export async function chargeCreation(c: CounterActionContext, me: Identity): Promise<void> {
	if (me.role === "operator" || ownerOf(c) !== null) return;
	let claim = c.vars.claim;
	if (claim === null) {
		claim = { userId: me.userId, charged: chargeCreationFor(c.client<Registry>(), me.userId, "counter", c.actorId) };
		c.vars.claim = claim;
	}
	try {
		await claim.charged;
	} finally {
		if (c.vars.claim === claim) c.vars.claim = null;
	}
}

/**
 * Records the owner (first writer) once a write is certain to happen.
 * Operators become owners too: a counter only an operator wrote would
 * otherwise stay claimable by the first user who writes it.
 */
export function claimOwner(c: CounterActionContext, me: Identity): void {
	if (ownerOf(c) === null) c.state.owner = me.userId;
}

/** Sends the count to every WebSocket connection allowed to read it whose token is still valid. */
export function sendCount(c: CounterContext): void {
	const now = Date.now();
	for (const conn of c.conns.values()) {
		if (conn.state.live && stillValid(conn.state, now) && mayRead(c, conn.state)) {
			conn.send("newCount", c.state.count);
		}
	}
}
