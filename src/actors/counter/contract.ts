// What a client of the counter may rely on: the limits it enforces and the
// shapes its actions return. Browser-importable (the web app's Counter panel
// imports it), so it imports nothing: no rivetkit, no node built-ins.

/** Largest step one call may add; keeps a typo from jumping the count. */
export const MAX_INCREMENT = 1_000;
/** Longest delay `incrementLater` accepts (one day). */
export const MAX_DELAY_MS = 24 * 60 * 60 * 1_000;
/** How far ahead `resetAt` may be scheduled (30 days). */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 60 * 60 * 1_000;
/** Pending timers per counter; state stays small and bounded. */
export const MAX_PENDING_TIMERS = 100;
/** Request ids remembered for idempotent retries (oldest dropped first). */
export const REMEMBERED_REQUESTS = 200;

export type TimerKind = "increment" | "reset";

export interface PendingTimer {
	id: string;
	kind: TimerKind;
	amount: number;
	runAt: number;
}
