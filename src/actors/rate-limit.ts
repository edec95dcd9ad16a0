// Per-identity rate limits for writes, kept in one actor's memory.
//
// A token bucket per `userId`: `burst` calls at once, refilled at
// `perSecond`. An actor keeps its limiter in `c.vars`, so a limit is
// per actor (one counter, one room, one batch), per identity. What that does
// not cover, on purpose, and what a product adds when it needs it:
// - it does not span keys: a user who floods many rooms is limited in each
//   room separately (a per-user quota actor, or a limit in the Hono layer in
//   front of sign-in, covers that);
// - it does not survive sleep or a crash: a woken actor starts with full
//   buckets (a sleeping actor receives no calls, so nothing is lost);
// - operators are not limited: they are trusted staff, and the bench drives
//   load through an operator sign-in.

import { UserError } from "rivetkit";
import type { Identity } from "../auth/connection.ts";

export interface RateLimit {
	/** Calls allowed at once, from a full bucket. */
	burst: number;
	/** Calls the bucket regains per second. */
	perSecond: number;
}

/** Identities one limiter remembers; beyond this, the least recently seen is forgotten (its bucket was refilling anyway). */
export const MAX_TRACKED_IDENTITIES = 10_000;

interface Bucket {
	tokens: number;
	/** Epoch ms of the last refill. */
	at: number;
}

export class RateLimiter {
	readonly limit: RateLimit;
	readonly #buckets = new Map<string, Bucket>();

	constructor(limit: RateLimit) {
		this.limit = limit;
	}

	/** Takes one call from `identity`'s bucket; false when it is empty (nothing is taken then). */
	take(identity: string, now = Date.now()): boolean {
		const bucket = this.#buckets.get(identity) ?? { tokens: this.limit.burst, at: now };
		bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1_000) * this.limit.perSecond);
		bucket.at = now;
		// Re-inserting keeps the Map in least-recently-seen order.
		this.#buckets.delete(identity);
		this.#buckets.set(identity, bucket);
		if (this.#buckets.size > MAX_TRACKED_IDENTITIES) {
			const oldest = this.#buckets.keys().next().value;
			if (oldest !== undefined) this.#buckets.delete(oldest);
		}
		if (bucket.tokens < 1) return false;
		bucket.tokens -= 1;
		return true;
	}
}

/**
 * Charges one write to `who`, or refuses it with `rate_limited` (metadata
 * `retryAfterMs`). Call it after the caller and the arguments are checked
 * and before anything changes, so a refused call changes nothing.
 */
export function chargeWrite(limiter: RateLimiter, who: Identity): void {
	if (who.role === "operator") return;
	if (limiter.take(who.userId)) return;
	const retryAfterMs = Math.ceil(1_000 / limiter.limit.perSecond);
	throw new UserError(`too many writes; try again in ${retryAfterMs} ms`, {
		code: "rate_limited",
		metadata: { retryAfterMs },
	});
}
