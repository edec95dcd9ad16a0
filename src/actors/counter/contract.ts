// What a client of the counter may rely on: the limits it enforces, who may
// call what, and the shapes its actions return. Browser-importable (the web
// app's Counter panel imports it), so it imports nothing but the pure access
// vocabulary: no rivetkit, no node built-ins.

import type { AccessTable } from "../access-contract.ts";

/** Largest step one call may add; keeps a typo from jumping the count. */
export const MAX_INCREMENT = 1_000;
/** Longest delay `incrementLater` accepts (one day). */
export const MAX_DELAY_MS = 24 * 60 * 60 * 1_000;
/** How far ahead `resetAt` may be scheduled (30 days). */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 60 * 60 * 1_000;
/** Pending timers per counter; state stays small and bounded. */
export const MAX_PENDING_TIMERS = 100;
/**
 * Shortest gap between two `newCount` events of one counter. A write inside
 * the gap is sent at its end, with the count of that moment: a reader sees
 * the latest count within this long, not every step of a burst.
 */
export const COUNT_EVENT_INTERVAL_MS = 50;
/** Request ids remembered for idempotent retries (oldest dropped first). */
export const REMEMBERED_REQUESTS = 200;
/** Writes (`increment`, `incrementLater`, `resetAt`) one user may make at once on one counter. */
export const COUNTER_WRITE_BURST = 60;
/** Writes per second one user regains on one counter (in memory, per actor: see src/actors/rate-limit.ts). */
export const COUNTER_WRITES_PER_SECOND = 20;

/**
 * Who may do what. A counter belongs to the first signed-in user who
 * writes to it (its owner); until then it reads as 0 to any signed-in user.
 * After that only the owner and operators may read or change it.
 */
export const COUNTER_ACCESS = {
	increment: {
		kind: "action",
		callers: ["owner", "operator"],
		rateLimit: "COUNTER_WRITES_PER_SECOND",
		note: "the first writer of a new counter becomes its owner, within COUNTERS_CREATED_PER_HOUR (QUOTA_ACCESS.chargeCreation)",
	},
	incrementLater: {
		kind: "action",
		callers: ["owner", "operator"],
		rateLimit: "COUNTER_WRITES_PER_SECOND",
		note: "claims a new counter like `increment`",
	},
	resetAt: {
		kind: "action",
		callers: ["owner", "operator"],
		rateLimit: "COUNTER_WRITES_PER_SECOND",
		note: "the time must be in the future",
	},
	getCount: { kind: "action", callers: ["owner", "operator"], note: "any user while the counter has no owner" },
	listTimers: { kind: "action", callers: ["owner", "operator"], note: "any user while the counter has no owner" },
	fireTimer: { kind: "action", callers: ["schedule"], note: "the timer's secret is never returned by an action" },
	newCount: { kind: "event", callers: ["owner", "operator"] },
} as const satisfies AccessTable;

export type TimerKind = "increment" | "reset";

export interface PendingTimer {
	id: string;
	kind: TimerKind;
	amount: number;
	runAt: number;
}
