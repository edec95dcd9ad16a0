// What a counter keeps: its state (saved with every write) and its vars
// (per generation, in memory).

import type { PendingClaim } from "../access.ts";
import { RateLimiter } from "../rate-limit.ts";
import { COUNTER_WRITE_BURST, COUNTER_WRITES_PER_SECOND, type PendingTimer } from "./contract.ts";

/** A pending timer and the secret its schedule callback must present (never returned to clients). */
export interface StoredTimer extends PendingTimer {
	secret: string;
}

export interface CounterState {
	count: number;
	/** The user id of the first writer; null until someone writes. */
	owner: string | null;
	timers: Record<string, StoredTimer>;
	/** `[requestId, countAfterThatRequest]`, newest last. */
	recentRequests: Array<[string, number]>;
}

export interface CounterVars {
	/** Per-user write limits; in memory, so they reset when the actor sleeps. */
	writes: RateLimiter;
	/**
	 * The first write of a counter with no owner, while its user's quota is
	 * asked (`claimOwner` in ../access.ts): another user's call meanwhile is
	 * refused as if the counter were owned. In memory only: the owner is
	 * saved with the first write itself.
	 */
	claim: PendingClaim | null;
	/** When `newCount` was last sent, and the send waiting for the end of its interval (`sendCount`). */
	countEvent: { sentAt: number; later: NodeJS.Timeout | null };
}

export const initialCounterState = (): CounterState => ({ count: 0, owner: null, timers: {}, recentRequests: [] });

export const createCounterVars = (): CounterVars => ({
	writes: new RateLimiter({ burst: COUNTER_WRITE_BURST, perSecond: COUNTER_WRITES_PER_SECOND }),
	claim: null,
	countEvent: { sentAt: 0, later: null },
});

/** Whether nothing was ever written to this counter (no owner, no count, no timer). */
export function holdsNothing(state: CounterState): boolean {
	return (state.owner ?? null) === null && state.count === 0 && Object.keys(state.timers).length === 0;
}
