// counter: one durable number per key, owned by the user who first writes it.
//
// Key: `[name]`, any counter name the client picks (e.g. `["home-page"]`).
// Owns: `state.count` and its owner's user id, plus the bookkeeping that
// makes writes safe to retry (recent request ids) and its pending timers.
// Flow: every connection (WebSocket or stateless HTTP call) proves who it is
// with a token (`onBeforeConnect`, `createConnState`). `increment` checks
// the caller is the owner (the first writer claims a new counter, after its
// user's quota actor accepts one more counter this hour), validates,
// charges the caller's rate limit, applies, saves immediately, then
// acknowledges and sends `newCount` to the connections allowed to read it.
// `incrementLater`/`resetAt` arm a schedule whose callback presents a secret
// that no action returns, so clients cannot fire it. Who may call what is
// `COUNTER_ACCESS` in ./contract.ts.

import { randomBytes, randomUUID } from "node:crypto";
import { type ActionContextOf, type ActorContextOf, actor, event, UserError } from "rivetkit";
import { z } from "zod";
import { callerOf, type Identity, requireUser } from "../../auth/connection.ts";
import { safeEqual } from "../../auth/secrets.ts";
import type { Registry } from "../../registry.ts";
import { type ActorConnState, connStateFor, stillValid } from "../conn-state.ts";
import { chargeCreationFor } from "../quota/charge.ts";
import { chargeWrite, RateLimiter } from "../rate-limit.ts";
import { admitOrForget } from "../strangers.ts";
import { parseInput } from "../validate.ts";
import {
	COUNTER_WRITE_BURST,
	COUNTER_WRITES_PER_SECOND,
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
// rivetkit 2.3.19 decodes large integers in a raw-HTTP JSON body (e.g. an
// epoch-ms timestamp sent with curl) as BigInt; both forms are accepted.
const timestampSchema = z.union([z.int(), z.bigint().transform((n) => Number(n))]).pipe(z.int().positive());

/** A pending timer and the secret its schedule callback must present (never returned to clients). */
interface StoredTimer extends PendingTimer {
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

interface CounterVars {
	/** Per-user write limits; in memory, so they reset when the actor sleeps. */
	writes: RateLimiter;
	/**
	 * The first write of a counter with no owner, while its user's quota is
	 * asked (an await): claimed before that await, so another user's write
	 * meanwhile is refused as if the counter were owned. In memory only: the
	 * owner is saved with the first write itself.
	 */
	claim: { userId: string; charged: Promise<void> } | null;
}

export const counter = actor({
	options: { name: "Counter", icon: "hashtag" },
	state: { count: 0, owner: null, timers: {}, recentRequests: [] } as CounterState,
	createVars: (): CounterVars => ({
		writes: new RateLimiter({ burst: COUNTER_WRITE_BURST, perSecond: COUNTER_WRITES_PER_SECOND }),
		claim: null,
	}),
	events: {
		newCount: event<number>(),
	},

	// Both run for WebSocket connections and for every stateless HTTP call.
	onBeforeConnect: async (c, params: unknown) => {
		// A refused first connection leaves no counter behind (src/actors/strangers.ts).
		await admitOrForget(
			c,
			() => holdsNothing(c.state),
			() => connStateFor(params, c.request),
		);
	},
	createConnState: (c, params: unknown): Promise<ActorConnState> => connStateFor(params, c.request),

	actions: {
		/**
		 * Adds `amount` and returns the new count. A `requestId` makes the call
		 * safe to retry: a repeated id returns the first result and adds nothing.
		 */
		increment: async (c, amount: number, options?: { requestId?: string }): Promise<number> => {
			const me = requireWriter(c);
			const step = parseInput(amountSchema, amount, "amount");
			const opts = parseInput(incrementOptionsSchema, options, "options");
			return applyIncrement(c, me, step, opts?.requestId);
		},

		getCount: (c): number => {
			requireReader(c);
			return c.state.count;
		},

		/** Adds `amount` after `delayMs`, through a schedule that survives crashes. */
		incrementLater: async (c, amount: number, delayMs: number): Promise<PendingTimer> => {
			const me = requireWriter(c);
			const step = parseInput(amountSchema, amount, "amount");
			const delay = parseInput(delaySchema, delayMs, "delayMs");
			return armTimer(c, me, "increment", step, Date.now() + delay);
		},

		/** Sets the count to zero at `timestamp` (epoch milliseconds, in the future). */
		resetAt: async (c, timestamp: number): Promise<PendingTimer> => {
			const me = requireWriter(c);
			const at = parseInput(timestampSchema, timestamp, "timestamp");
			const now = Date.now();
			if (at <= now || at > now + MAX_SCHEDULE_AHEAD_MS) {
				throw new UserError("timestamp must be in the future, at most 30 days ahead", {
					code: "timestamp_out_of_range",
				});
			}
			return armTimer(c, me, "reset", 0, at);
		},

		/** Pending timers, soonest first (without their secrets). */
		listTimers: (c): PendingTimer[] => {
			requireReader(c);
			return Object.values(c.state.timers)
				.sort((a, b) => a.runAt - b.runAt)
				.map(({ id, kind, amount, runAt }) => ({ id, kind, amount, runAt }));
		},

		/**
		 * The schedule callback. It is an action because schedules can only call
		 * actions, so it is reachable by clients too. The secret is what keeps
		 * them out: it was generated when the timer was armed, is passed only to
		 * the schedule, is never returned by any action, and is spent on use.
		 * The timer id alone (which `listTimers` shows) is not enough.
		 */
		fireTimer: async (c, timerId: unknown, secret: unknown): Promise<void> => {
			const timer = typeof timerId === "string" ? c.state.timers[timerId] : undefined;
			if (!timer || typeof secret !== "string" || !safeEqual(secret, timer.secret)) {
				throw new UserError("fireTimer is called by the actor's own schedule, not by clients", {
					code: "forbidden",
				});
			}
			delete c.state.timers[timer.id];
			c.state.count = timer.kind === "reset" ? 0 : c.state.count + timer.amount;
			await c.saveState({ immediate: true });
			sendCount(c);
		},
	},
});

type CounterContext = ActorContextOf<typeof counter>;
type CounterActionContext = ActionContextOf<typeof counter>;

/**
 * The owner's user id, or null. State saved before owners existed has no
 * `owner` field at all; it reads as "no owner yet".
 */
function ownerOf(c: CounterContext): string | null {
	return c.state.owner ?? null;
}

/** Whether nothing was ever written to this counter (no owner, no count, no timer). */
function holdsNothing(state: CounterState): boolean {
	return (state.owner ?? null) === null && state.count === 0 && Object.keys(state.timers).length === 0;
}

/** Whether `who` may read this counter: its owner, an operator, or anyone while it has no owner. */
function mayRead(c: CounterContext, who: Identity): boolean {
	const owner = ownerOf(c);
	return who.role === "operator" || owner === null || owner === who.userId;
}

function requireReader(c: CounterActionContext): Identity {
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
function requireWriter(c: CounterActionContext): Identity {
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
async function chargeCreation(c: CounterActionContext, me: Identity): Promise<void> {
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
function claimOwner(c: CounterActionContext, me: Identity): void {
	if (ownerOf(c) === null) c.state.owner = me.userId;
}

/** Sends the count to every WebSocket connection allowed to read it whose token is still valid. */
function sendCount(c: CounterContext): void {
	const now = Date.now();
	for (const conn of c.conns.values()) {
		if (conn.state.live && stillValid(conn.state, now) && mayRead(c, conn.state)) {
			conn.send("newCount", c.state.count);
		}
	}
}

async function applyIncrement(
	c: CounterActionContext,
	me: Identity,
	amount: number,
	requestId: string | undefined,
): Promise<number> {
	await chargeCreation(c, me);
	if (requestId !== undefined) {
		const seen = c.state.recentRequests.find(([id]) => id === requestId);
		if (seen) return seen[1];
	}
	if (c.state.count + amount > Number.MAX_SAFE_INTEGER) {
		throw new UserError("the counter would overflow", { code: "count_overflow" });
	}
	chargeWrite(c.vars.writes, me);
	claimOwner(c, me);
	c.state.count += amount;
	if (requestId !== undefined) {
		c.state.recentRequests.push([requestId, c.state.count]);
		if (c.state.recentRequests.length > REMEMBERED_REQUESTS) c.state.recentRequests.shift();
	}
	// State saves are throttled (1 s by default) and acknowledgements are not
	// held back until they land; without this, a crash right after the reply
	// loses a write the client was told succeeded.
	await c.saveState({ immediate: true });
	sendCount(c);
	return c.state.count;
}

async function armTimer(
	c: CounterActionContext,
	me: Identity,
	kind: TimerKind,
	amount: number,
	runAt: number,
): Promise<PendingTimer> {
	await chargeCreation(c, me);
	if (Object.keys(c.state.timers).length >= MAX_PENDING_TIMERS) {
		throw new UserError(`at most ${MAX_PENDING_TIMERS} timers may be pending`, { code: "too_many_timers" });
	}
	chargeWrite(c.vars.writes, me);
	claimOwner(c, me);
	const timer: StoredTimer = { id: randomUUID(), kind, amount, runAt, secret: randomBytes(24).toString("base64url") };
	// The schedule is armed before the timer is saved: a crash in between
	// leaves a schedule whose timer is unknown (it fires and is refused)
	// rather than a timer that no schedule will ever fire.
	await c.schedule.at(runAt, "fireTimer", timer.id, timer.secret);
	c.state.timers[timer.id] = timer;
	await c.saveState({ immediate: true });
	return { id: timer.id, kind, amount, runAt };
}
