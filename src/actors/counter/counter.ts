// counter: one durable number per key.
//
// Key: `[name]`, any counter name the client picks (e.g. `["home-page"]`).
// Owns: `state.count`, plus the bookkeeping that makes writes safe to retry
// (recent request ids) and its pending timers.
// Flow: `increment` validates, applies, saves immediately, then acknowledges
// and broadcasts `newCount`. `incrementLater`/`resetAt` arm a schedule whose
// callback is guarded by a one-time token, so clients cannot call it.

import { randomUUID } from "node:crypto";
import { type ActionContextOf, actor, event, UserError } from "rivetkit";
import { z } from "zod";
import { parseInput } from "../validate.ts";
import {
	MAX_DELAY_MS,
	MAX_INCREMENT,
	MAX_PENDING_TIMERS,
	MAX_SCHEDULE_AHEAD_MS,
	type PendingTimer,
	REMEMBERED_REQUESTS,
	type TimerKind,
} from "./contract.ts";

const amountSchema = z.int().min(1).max(MAX_INCREMENT);
const requestIdSchema = z.string().min(1).max(128);
const incrementOptionsSchema = z.strictObject({ requestId: requestIdSchema.optional() }).optional();
const delaySchema = z.int().min(0).max(MAX_DELAY_MS);
const timestampSchema = z.int().positive();

export interface CounterState {
	count: number;
	/** Keyed by the one-time token the schedule callback must present. */
	timers: Record<string, PendingTimer>;
	/** `[requestId, countAfterThatRequest]`, newest last. */
	recentRequests: Array<[string, number]>;
}

export const counter = actor({
	options: { name: "Counter", icon: "hashtag" },
	state: { count: 0, timers: {}, recentRequests: [] } as CounterState,
	events: {
		newCount: event<number>(),
	},
	actions: {
		/**
		 * Adds `amount` and returns the new count. A `requestId` makes the call
		 * safe to retry: a repeated id returns the first result and adds nothing.
		 */
		increment: async (c, amount: number, options?: { requestId?: string }): Promise<number> => {
			const step = parseInput(amountSchema, amount, "amount");
			const opts = parseInput(incrementOptionsSchema, options, "options");
			return applyIncrement(c, step, opts?.requestId);
		},

		getCount: (c): number => c.state.count,

		/** Adds `amount` after `delayMs`, through a schedule that survives crashes. */
		incrementLater: async (c, amount: number, delayMs: number): Promise<PendingTimer> => {
			const step = parseInput(amountSchema, amount, "amount");
			const delay = parseInput(delaySchema, delayMs, "delayMs");
			return armTimer(c, "increment", step, Date.now() + delay);
		},

		/** Sets the count to zero at `timestamp` (epoch milliseconds). */
		resetAt: async (c, timestamp: number): Promise<PendingTimer> => {
			const at = parseInput(timestampSchema, timestamp, "timestamp");
			if (at > Date.now() + MAX_SCHEDULE_AHEAD_MS) {
				throw new UserError("timestamp is too far in the future", { code: "timestamp_out_of_range" });
			}
			return armTimer(c, "reset", 0, at);
		},

		/** Pending timers, soonest first. */
		listTimers: (c): PendingTimer[] => Object.values(c.state.timers).sort((a, b) => a.runAt - b.runAt),

		/**
		 * The schedule callback. It is an action because schedules can only call
		 * actions, so it is reachable by clients too; the one-time token is what
		 * keeps them out: only the schedule knows it, and it is spent on use.
		 */
		fireTimer: async (c, token: unknown): Promise<void> => {
			const timer = typeof token === "string" ? c.state.timers[token] : undefined;
			if (!timer) {
				throw new UserError("fireTimer is called by the actor's own schedule, not by clients", {
					code: "forbidden",
				});
			}
			delete c.state.timers[timer.id];
			c.state.count = timer.kind === "reset" ? 0 : c.state.count + timer.amount;
			await c.saveState({ immediate: true });
			c.broadcast("newCount", c.state.count);
		},
	},
});

type CounterContext = ActionContextOf<typeof counter>;

async function applyIncrement(c: CounterContext, amount: number, requestId: string | undefined): Promise<number> {
	if (requestId !== undefined) {
		const seen = c.state.recentRequests.find(([id]) => id === requestId);
		if (seen) return seen[1];
	}
	if (c.state.count + amount > Number.MAX_SAFE_INTEGER) {
		throw new UserError("the counter would overflow", { code: "count_overflow" });
	}
	c.state.count += amount;
	if (requestId !== undefined) {
		c.state.recentRequests.push([requestId, c.state.count]);
		if (c.state.recentRequests.length > REMEMBERED_REQUESTS) c.state.recentRequests.shift();
	}
	// State saves are throttled (1 s by default) and acknowledgements are not
	// held back until they land; without this, a crash right after the reply
	// loses a write the client was told succeeded.
	await c.saveState({ immediate: true });
	c.broadcast("newCount", c.state.count);
	return c.state.count;
}

async function armTimer(c: CounterContext, kind: TimerKind, amount: number, runAt: number): Promise<PendingTimer> {
	if (Object.keys(c.state.timers).length >= MAX_PENDING_TIMERS) {
		throw new UserError(`at most ${MAX_PENDING_TIMERS} timers may be pending`, { code: "too_many_timers" });
	}
	const timer: PendingTimer = { id: randomUUID(), kind, amount, runAt };
	// The schedule is armed before the token is saved: a crash in between
	// leaves a schedule whose token is unknown (it fires and does nothing)
	// rather than a token that no schedule will ever spend.
	await c.schedule.at(runAt, "fireTimer", timer.id);
	c.state.timers[timer.id] = timer;
	await c.saveState({ immediate: true });
	return timer;
}
