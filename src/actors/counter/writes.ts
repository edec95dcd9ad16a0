// What a counter's writes do: an increment (idempotent per request id), a
// timer armed on a schedule, and the schedule's callback. Each is saved
// before it is acknowledged.

import { randomBytes, randomUUID } from "node:crypto";
import { UserError } from "rivetkit";
import type { Identity } from "../../auth/connection.ts";
import { safeEqual } from "../../auth/secrets.ts";
import type { Registry } from "../../registry.ts";
import { claimOwner, guardSchedule, ownerOf, sendToAllowed } from "../access.ts";
import type { AccessRule } from "../access-contract.ts";
import { chargeCreationFor } from "../quota/charge.ts";
import { chargeWrite } from "../rate-limit.ts";
import {
	COUNT_EVENT_INTERVAL_MS,
	COUNTER_ACCESS,
	MAX_PENDING_TIMERS,
	MAX_SCHEDULE_AHEAD_MS,
	type PendingTimer,
	REMEMBERED_REQUESTS,
	type TimerKind,
} from "./contract.ts";
import type { CounterActionContext, CounterContext } from "./counter.ts";
import type { CounterVars, StoredTimer } from "./state.ts";

/**
 * Claims a counter that has no owner for `me`, its first writer, after their
 * quota accepts one more counter this hour (src/actors/quota:
 * `COUNTERS_CREATED_PER_HOUR`, charged once per counter, so a retry is not
 * charged again); refuses with `rate_limited` and `retryAfterMs`, leaving
 * the counter unowned. Then `rule` is checked again against the owner.
 */
async function claim(c: CounterActionContext, me: Identity, rule: AccessRule): Promise<void> {
	await claimOwner(c, me, rule, () => chargeCreationFor(c.client<Registry>(), me.userId, "counter", c.actorId));
}

/**
 * Sends the count to every WebSocket connection allowed to read it
 * (`COUNTER_ACCESS.newCount`) whose token is still valid, at most once per
 * `COUNT_EVENT_INTERVAL_MS`: a write inside the interval is sent at its end,
 * with the count of that moment. Each send visits every connection, the
 * stateless calls in flight included (rivetkit 2.3.19 builds each one and its
 * state on every read of `c.conns`), so under concurrent writes a send per
 * write was most of a write's time in the app server (docs/performance.md,
 * "Gateway actions at 50 connections").
 */
export function sendCount(c: CounterContext): void {
	const event = c.vars.countEvent;
	if (event.later !== null) return;
	const wait = event.sentAt + COUNT_EVENT_INTERVAL_MS - Date.now();
	if (wait <= 0) {
		sendCountNow(c);
		return;
	}
	event.later = setTimeout(() => {
		event.later = null;
		sendCountNow(c);
	}, wait);
}

/** Stops a send waiting for its interval (when the counter sleeps or is destroyed). */
export function cancelCountEvent(vars: CounterVars): void {
	if (vars.countEvent.later !== null) clearTimeout(vars.countEvent.later);
	vars.countEvent.later = null;
}

function sendCountNow(c: CounterContext): void {
	c.vars.countEvent.sentAt = Date.now();
	sendToAllowed(c.conns.values(), COUNTER_ACCESS.newCount, { owner: ownerOf(c) }, (conn) =>
		conn.send("newCount", c.state.count),
	);
}

/**
 * The count after `requestId`'s first attempt, once that attempt is saved;
 * undefined for a request not seen. A retry can arrive while the first
 * attempt's save is still on its way (its client stopped waiting), and
 * answering from memory then acknowledges a write a crash can still lose.
 * So the state is marked changed and saved before the answer: a save that
 * lands after the first attempt's, whatever became of it. It costs one
 * write, on retries only.
 */
async function remembered(c: CounterActionContext, requestId: string | undefined): Promise<number | undefined> {
	const seen = requestId === undefined ? undefined : c.state.recentRequests.find(([id]) => id === requestId);
	if (!seen) return undefined;
	c.state.recentRequests = [...c.state.recentRequests];
	await c.saveState({ immediate: true });
	return seen[1];
}

export async function applyIncrement(
	c: CounterActionContext,
	me: Identity,
	amount: number,
	requestId: string | undefined,
): Promise<number> {
	const earlier = await remembered(c, requestId);
	if (earlier !== undefined) return earlier;
	chargeWrite(c.vars.writes, me);
	await claim(c, me, COUNTER_ACCESS.increment);
	// A retry of the same request may have landed while the claim waited.
	const landed = await remembered(c, requestId);
	if (landed !== undefined) return landed;
	if (c.state.count + amount > Number.MAX_SAFE_INTEGER) {
		throw new UserError("the counter would overflow", { code: "count_overflow" });
	}
	c.state.count += amount;
	// This write's result, which a retry of it is answered with too: by the
	// time the save lands, concurrent writes may have moved the count on.
	const count = c.state.count;
	if (requestId !== undefined) {
		c.state.recentRequests.push([requestId, count]);
		if (c.state.recentRequests.length > REMEMBERED_REQUESTS) c.state.recentRequests.shift();
	}
	// State saves are throttled (1 s by default) and acknowledgements are not
	// held back until they land; without this, a crash right after the reply
	// loses a write the client was told succeeded.
	await c.saveState({ immediate: true });
	sendCount(c);
	return count;
}

export async function armTimer(
	c: CounterActionContext,
	me: Identity,
	kind: TimerKind,
	amount: number,
	runAt: number,
): Promise<PendingTimer> {
	const now = Date.now();
	if (kind === "reset" && (runAt <= now || runAt > now + MAX_SCHEDULE_AHEAD_MS)) {
		throw new UserError("timestamp must be in the future, at most 30 days ahead", { code: "timestamp_out_of_range" });
	}
	chargeWrite(c.vars.writes, me);
	await claim(c, me, kind === "reset" ? COUNTER_ACCESS.resetAt : COUNTER_ACCESS.incrementLater);
	// Only a counter that already had an owner can hold timers: a refusal here changes nothing.
	if (Object.keys(c.state.timers).length >= MAX_PENDING_TIMERS) {
		throw new UserError(`at most ${MAX_PENDING_TIMERS} timers may be pending`, { code: "too_many_timers" });
	}
	const timer: StoredTimer = { id: randomUUID(), kind, amount, runAt, secret: randomBytes(24).toString("base64url") };
	// The schedule is armed before the timer is saved: a crash in between
	// leaves a schedule whose timer is unknown (it fires and is refused)
	// rather than a timer that no schedule will ever fire.
	await c.schedule.at(runAt, "fireTimer", timer.id, timer.secret);
	c.state.timers[timer.id] = timer;
	await c.saveState({ immediate: true });
	return { id: timer.id, kind, amount, runAt };
}

/** The schedule callback's body: refuses any caller but the schedule, and any call without the timer's secret, then applies the timer. */
export async function fireTimer(c: CounterActionContext, timerId: unknown, secret: unknown): Promise<void> {
	guardSchedule(c, COUNTER_ACCESS.fireTimer);
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
}
