// counter: one durable number per key, owned by the user who first writes it.
//
// Key: `[name]`, any counter name the client picks (e.g. `["home-page"]`).
// Owns: `state.count` and its owner's user id, plus the bookkeeping that
// makes writes safe to retry (recent request ids) and its pending timers.
// Flow (`guard` in ../access.ts decides who may do what, from
// `COUNTER_ACCESS` in ./contract.ts; ./writes.ts does it):
//   1. Every connection (WebSocket or stateless HTTP call) proves who it is
//      with a token, verified once, in `createConnState`.
//   2. `increment` checks the caller may write (its owner, an operator, or
//      anyone while it has no owner) and validates its arguments.
//   3. It charges the caller's rate limit, claims a new counter for its first
//      writer (after the user's quota actor accepts one more this hour),
//      applies, saves immediately, then acknowledges and sends `newCount` to
//      the connections allowed to read (at most one event per
//      `COUNT_EVENT_INTERVAL_MS`; the latest count always goes out).
//   4. `incrementLater`/`resetAt` arm a schedule whose callback, `fireTimer`,
//      must present a secret that no action returns, so clients cannot fire it.

import { type ActionContextOf, type ActorContextOf, actor, event } from "rivetkit";
import { z } from "zod";
import { type ActorConnState, connStateFor } from "../../auth/connection.ts";
import { guard, ownerOf } from "../access.ts";
import { admitOrForget } from "../strangers.ts";
import { parseInput } from "../validate.ts";
import { COUNTER_ACCESS, MAX_DELAY_MS, MAX_INCREMENT, type PendingTimer } from "./contract.ts";
import { createCounterVars, holdsNothing, initialCounterState } from "./state.ts";
import { applyIncrement, armTimer, cancelCountEvent, fireTimer } from "./writes.ts";

const amountSchema = z.int().min(1).max(MAX_INCREMENT);
const requestIdSchema = z.string().min(1).max(128);
const incrementOptionsSchema = z.strictObject({ requestId: requestIdSchema.optional() }).optional();
const delaySchema = z.int().min(0).max(MAX_DELAY_MS);
// rivetkit 2.3.19 decodes large integers in a raw-HTTP JSON body (e.g. an
// epoch-ms timestamp sent with curl) as BigInt; both forms are accepted.
const timestampSchema = z.union([z.int(), z.bigint().transform((n) => Number(n))]).pipe(z.int().positive());

export const counter = actor({
	options: { name: "Counter", icon: "hashtag" },
	state: initialCounterState(),
	createVars: createCounterVars,
	events: {
		newCount: event<number>(),
	},

	// Runs for WebSocket connections and for every stateless HTTP call. A
	// refused first connection leaves no counter behind (src/actors/strangers.ts).
	createConnState: (c, params: unknown): Promise<ActorConnState> =>
		admitOrForget(
			c,
			() => holdsNothing(c.state),
			() => connStateFor(params, c.request),
		),

	// A send still waiting for its interval would outlive the actor: nobody is left to receive it.
	onSleep: (c) => cancelCountEvent(c.vars),
	onDestroy: (c) => cancelCountEvent(c.vars),

	actions: {
		/**
		 * Adds `amount` and returns the new count. A `requestId` makes the call
		 * safe to retry: a repeated id returns the first result and adds nothing.
		 */
		increment: async (c, amount: number, options?: { requestId?: string }): Promise<number> => {
			const me = guard(c, COUNTER_ACCESS.increment, { owner: ownerOf(c) });
			const step = parseInput(amountSchema, amount, "amount");
			const opts = parseInput(incrementOptionsSchema, options, "options");
			return applyIncrement(c, me, step, opts?.requestId);
		},

		getCount: (c): number => {
			guard(c, COUNTER_ACCESS.getCount, { owner: ownerOf(c) });
			return c.state.count;
		},

		/** Adds `amount` after `delayMs`, through a schedule that survives crashes. */
		incrementLater: async (c, amount: number, delayMs: number): Promise<PendingTimer> => {
			const me = guard(c, COUNTER_ACCESS.incrementLater, { owner: ownerOf(c) });
			const step = parseInput(amountSchema, amount, "amount");
			const delay = parseInput(delaySchema, delayMs, "delayMs");
			return armTimer(c, me, "increment", step, Date.now() + delay);
		},

		/** Sets the count to zero at `timestamp` (epoch milliseconds, in the future). */
		resetAt: async (c, timestamp: number): Promise<PendingTimer> => {
			const me = guard(c, COUNTER_ACCESS.resetAt, { owner: ownerOf(c) });
			return armTimer(c, me, "reset", 0, parseInput(timestampSchema, timestamp, "timestamp"));
		},

		/** Pending timers, soonest first (without their secrets). */
		listTimers: (c): PendingTimer[] => {
			guard(c, COUNTER_ACCESS.listTimers, { owner: ownerOf(c) });
			return Object.values(c.state.timers)
				.sort((a, b) => a.runAt - b.runAt)
				.map(({ id, kind, amount, runAt }) => ({ id, kind, amount, runAt }));
		},

		/**
		 * The schedule callback. It is an action because schedules can only call
		 * actions, so it is reachable by clients too. Its guard refuses every
		 * caller with an identity, and the secret keeps out the rest: it was generated when the timer was armed, is passed only to
		 * the schedule, is never returned by any action, and is spent on use.
		 * The timer id alone (which `listTimers` shows) is not enough.
		 */
		fireTimer: (c, timerId: unknown, secret: unknown): Promise<void> => fireTimer(c, timerId, secret),
	},
});

export type CounterContext = ActorContextOf<typeof counter>;
export type CounterActionContext = ActionContextOf<typeof counter>;
