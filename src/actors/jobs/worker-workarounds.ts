// The worker's workarounds for rivetkit 2.3.19 (and engine 2.3.19).
//
// `worker.ts` is the pattern to copy: a queue feeding a durable workflow whose
// steps are recorded and replayed. This file is the scar tissue that pattern
// needed to survive crashes on 2.3.19, kept apart so a reader can tell the
// two apart. Each piece names what it works around and the test that
// measures it; retest them when upgrading rivetkit, and delete what the new
// version makes unnecessary.
//
// - A watchdog schedule (`ensureWatchdog`, `fireWatchdog`, `disarmWatchdog`):
//   after a crash nothing restarts an actor that receives no traffic, so a
//   job in flight never resumes. A pending schedule survives the crash and
//   wakes the actor. Measured by test/faults/workflow.test.ts (a job killed
//   three times resumes with no client traffic).
// - Keeping the watchdog ahead of progress (`keepWatchdogAhead`): a schedule
//   whose wake finds no app server is lost. Measured by
//   test/faults/queue.test.ts (the server killed mid-way and restarted).
// - A restart after the workflow itself failed (`restartAfterFailure`): the
//   engine dying mid-commit leaves the actor's SQLite connection unusable and
//   the run handler ended, with the actor still awake. Measured by
//   test/faults/queue.test.ts (the engine killed mid-way).
// The README's "Reliability" section tells the story of each.

import { randomUUID } from "node:crypto";
import { type ActorContextOf, type RunContextOf, UserError } from "rivetkit";
import type { worker } from "./worker.ts";

/** How often an awake worker's watchdog fires; also the longest a crashed job waits to resume. */
export const WATCHDOG_INTERVAL_MS = 15_000;
/**
 * Least time left on the watchdog whenever a job makes progress; below it,
 * the watchdog is pushed back to a full interval. A crash mid-job then leaves
 * the server at least this long to come back before the watchdog fires (see
 * `keepWatchdogAhead` for why that matters).
 */
export const WATCHDOG_MIN_LEAD_MS = 10_000;

/**
 * The pending watchdog schedule, the token its callback must present and
 * when it fires (epoch ms; absent in state saved before it was recorded).
 * Kept in the worker's state.
 */
export interface WatchdogState {
	id: string;
	token: string;
	runAt?: number;
}

/** Per generation, never saved (the worker's `vars`). */
export interface WorkaroundVars {
	/** Set when this generation gave up and is going to sleep to restart. */
	restarting: boolean;
	/**
	 * `keepWatchdogAhead` bound to this generation's actor context, set in
	 * `onWake`: workflow steps have no `schedule` of their own.
	 */
	keepWatchdogAhead: (() => Promise<void>) | null;
}

type WorkerContext = ActorContextOf<typeof worker>;
type WorkerRunContext = RunContextOf<typeof worker>;

export function initialWorkaroundVars(): WorkaroundVars {
	return { restarting: false, keepWatchdogAhead: null };
}

/** The worker's `onWake`: binds `keepWatchdogAhead` for the steps and arms the watchdog. */
export async function startWorkarounds(c: WorkerContext): Promise<void> {
	c.vars.keepWatchdogAhead = () => keepWatchdogAhead(c);
	await ensureWatchdog(c);
}

/**
 * The worker's `onSleep`. Idle: nothing to resume, so nothing should wake the
 * worker. With a job in flight (a deploy is draining it) or a restart under
 * way (jobs may still be queued) the watchdog stays armed to bring the worker
 * back without any client traffic.
 */
export async function stopWorkarounds(c: WorkerContext, jobInFlight: boolean): Promise<void> {
	if (!jobInFlight && !c.vars.restarting) await disarmWatchdog(c);
}

/**
 * The body of the worker's `watchdog` action, the schedule's callback.
 * Schedules can only call actions, so clients can reach it too; the token,
 * known only to the pending schedule, keeps them out.
 */
export async function fireWatchdog(c: WorkerContext, token: unknown): Promise<void> {
	if (typeof token !== "string" || token !== c.state.watchdog?.token) {
		throw new UserError("watchdog is called by the worker's own schedule, not by clients", {
			code: "forbidden",
		});
	}
	c.state.watchdog = null;
	// Firing woke the actor, which is all a crashed job needs: the
	// workflow resumes as the actor starts. Re-arm while awake.
	await ensureWatchdog(c);
}

/**
 * Keeps one watchdog schedule pending while the worker is awake.
 *
 * A crash stops the workflow, and nothing restarts an actor that receives no
 * traffic (measured: a job in flight did not resume within 60 s). A pending
 * schedule does: it survives the crash and wakes the actor, whose workflow
 * then resumes the job. Armed on every wake and re-armed each time it fires,
 * so one is always pending while the worker is awake. The interval is longer
 * than the sleep timeout, so an idle worker falls asleep first and `onSleep`
 * cancels the watchdog instead of being woken by it forever.
 */
export async function ensureWatchdog(c: WorkerContext): Promise<void> {
	const armed = c.state.watchdog;
	if (armed && (await c.schedule.get(armed.id))) return;
	await armWatchdog(c);
}

/**
 * Schedules a watchdog a full interval from now and records it.
 *
 * The schedule is durable once `at` resolves; that is what matters. The token
 * rides the next state save: `saveState({ immediate: true })` never resolves
 * inside onWake in rivetkit 2.3.19 (the actor then fails to start). If a
 * crash loses the token, the old schedule still wakes the actor when it
 * fires; it is refused, and onWake arms a new one.
 */
async function armWatchdog(c: WorkerContext): Promise<void> {
	const token = randomUUID();
	const runAt = Date.now() + WATCHDOG_INTERVAL_MS;
	const id = await c.schedule.at(runAt, "watchdog", token);
	c.state.watchdog = { id, token, runAt };
}

/**
 * Pushes the watchdog back to a full interval when less than
 * `WATCHDOG_MIN_LEAD_MS` is left; the steps that make progress call it
 * (through `c.vars`).
 *
 * Why: rivetkit 2.3.19 loses a schedule whose wake finds no app server. The
 * engine wakes the actor, its `/start` request is refused, it counts that as
 * a crash, and the crash policy rivetkit's client always sets (`sleep`) puts
 * the actor to sleep with the alarm already spent. Measured with the only app
 * server killed and started again 3-4 s later: when the watchdog fell inside
 * that gap the worker slept with 53 jobs queued and never resumed on its own.
 * A watchdog kept at least 10 s ahead of the last progress gives a crashed
 * server that long to come back. Costs one re-arm per 5 s of activity.
 */
async function keepWatchdogAhead(c: WorkerContext): Promise<void> {
	const armed = c.state.watchdog;
	if (armed?.runAt !== undefined && armed.runAt - Date.now() >= WATCHDOG_MIN_LEAD_MS) return;
	// The new one is armed before the old one is cancelled: never a moment without one.
	await armWatchdog(c);
	if (armed) await c.schedule.cancel(armed.id);
}

async function disarmWatchdog(c: WorkerContext): Promise<void> {
	const armed = c.state.watchdog;
	if (!armed) return;
	await c.schedule.cancel(armed.id);
	// rivetkit saves the state right after onSleep returns.
	c.state.watchdog = null;
}

/**
 * The workflow itself failed (not a step, which retries on its own): the
 * run handler has ended and this generation of the actor would stay awake
 * with no loop taking jobs. Measured cause: the engine dying mid-commit
 * leaves the actor's SQLite connection unusable ("remote sqlite commit result
 * is indeterminate after envoy disconnect", then "disk I/O error" on every
 * statement), so every later step fails too. Sleeping ends this generation;
 * the watchdog wakes a fresh one, with a fresh connection, whose workflow
 * replays its history and re-runs only the step that was in flight.
 */
export function restartAfterFailure(c: WorkerRunContext, error: string): void {
	c.log.error({ msg: "worker workflow failed; restarting the actor to resume its jobs", error });
	c.vars.restarting = true;
	c.sleep();
}
