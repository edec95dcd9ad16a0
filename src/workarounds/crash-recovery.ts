// WORKAROUND for rivetkit 2.3.19 (and engine 2.3.19): an actor whose run
// loop works through durable jobs resumes them after a crash, with no client
// traffic. Applied as a wrapper, `withCrashRecovery(actor({...}), { busy })`
// (the worker, src/actors/jobs/worker.ts), so the actor reads as if rivetkit
// had no such bugs; the workflow's `onError` hands a failed workflow to
// `restartAfterFailure`. Both are the documented hooks (README.md here).
//
// - A watchdog schedule: after a crash nothing restarts an actor that
//   receives no traffic, so a job in flight never resumes (measured: not
//   within 60 s). A pending schedule survives the crash and wakes the actor,
//   whose workflow then resumes the job. Armed on every wake and re-armed
//   each time it fires, so one is always pending while the actor is awake.
//   Its interval is longer than the worker's sleep timeout, so an idle actor
//   falls asleep first and the wrapper's `onSleep` cancels it. Measured by
//   test/faults/workflow.test.ts (a job killed three times resumes).
// - Kept ahead while busy: a schedule whose wake finds no app server is lost
//   (the engine counts the refused `/start` as a crash, and the crash policy
//   rivetkit's client always sets, `sleep`, spends the alarm). While `busy`,
//   the watchdog is kept at least WATCHDOG_MIN_LEAD_MS ahead, so a crashed
//   server has that long to come back. Measured by test/faults/queue.test.ts
//   (the server killed mid-way and restarted 3-4 s later: without it the
//   worker slept with 53 jobs queued and never resumed on its own).
// - A restart after the workflow itself failed (`restartAfterFailure`): the
//   engine dying mid-commit leaves the actor's SQLite connection unusable and
//   the run handler ended, with the actor still awake. Sleeping ends that
//   generation; the watchdog wakes a fresh one, whose workflow replays its
//   history. Measured by test/faults/queue.test.ts (the engine killed mid-way).
// - A lost generation that keeps running (seen on the wasm runtime): after an
//   engine kill -9 the engine starts a new generation of each worker that was
//   running, in the same app server, while the old one is never stopped: its
//   storage calls fail (`An internal error occurred`, one every ~30 s) and
//   its workflow retries the step that was in flight for minutes. rivetkit
//   runs one run handler per actor id (`RunHandlerCoordinator` in
//   node_modules/rivetkit/src/registry/run-handler-coordinator.ts), so the new
//   generation's workflow waits for the old one's and no job moves. When a
//   generation wakes while an older one's run handler is still listed here,
//   the older one's handler is released (it returns; its workflow is left to
//   fail on its own) and its timer stopped. The engine starts a new
//   generation only once it counts the old one gone, so in any other case
//   the older handler has already returned. Applied on the wasm runtime
//   only, where it was seen. Measured by
//   test/faults/browser.test.ts ("the engine is killed and restarted"): on
//   wasm without this, the batch stayed at `Running: 0 of 20` in 4 of 4 runs
//   (the old generations' runs were still active and the new ones' never
//   started); docs/performance.md has the upstream report's text.
//
// The watchdog's record lives in the actor's state under `watchdog` (the
// pattern's state type does not show it); what one generation needs lives in
// its `vars`. Delete this file, and the wrapper and `restartAfterFailure`
// calls in worker.ts, once rivetkit restarts crashed actors with pending work,
// retries a wake that finds no server and stops a generation lost with the
// engine (the browser test's engine case passes on wasm without the release).

import { randomUUID } from "node:crypto";
import { type AnyActorDefinition, UserError } from "rivetkit";
import { guardSchedule } from "../actors/access.ts";
import type { AccessRule } from "../actors/access-contract.ts";
import type { Identity } from "../auth/connection.ts";
import { safeEqual } from "../auth/secrets.ts";
import { logWakeFailure } from "./wake-failure-log.ts";

/** How often an awake actor's watchdog fires; also the longest a crashed job waits to resume. */
export const WATCHDOG_INTERVAL_MS = 15_000;
/** Least time left on the watchdog while the actor is busy (see the file header). */
export const WATCHDOG_MIN_LEAD_MS = 10_000;
/** How often a busy actor checks its watchdog's lead. */
const WATCHDOG_CHECK_INTERVAL_MS = 1_000;
/** The action the watchdog schedule calls; it refuses clients. */
export const WATCHDOG_ACTION = "watchdog";
/** Where the watchdog's record lives in the actor's state, and this generation's part in its vars. */
const SLOT = "watchdog";

/** The pending watchdog schedule, the token its callback must present, and when it fires (epoch ms). */
interface WatchdogRecord {
	id: string;
	token: string;
	runAt?: number;
}

/** Per generation, never saved. */
interface GenerationVars {
	/** Set when this generation gave up and is going to sleep to restart. */
	restarting: boolean;
	/** The busy check's timer, while awake. */
	timer: ReturnType<typeof setInterval> | undefined;
	/** Arming and cancelling run one at a time. */
	queue: Promise<void>;
	/** Set when a newer generation of the same actor woke in this process (see the file header). */
	superseded: boolean;
	/** Ends this generation's run handler early; called once it is superseded. */
	release: () => void;
	/** Settles when `release` is called. */
	released: Promise<void>;
}

/**
 * The generation of each actor whose run handler is running in this process,
 * by actor id. A newer generation that wakes while an older one is still
 * listed releases the older one's run handler (see the file header).
 */
const runningGenerations = new Map<string, GenerationVars>();

type Logger = { error(fields: Record<string, unknown>): void; warn(fields: Record<string, unknown>): void };

/** What this file uses of an actor's context: rivetkit's, seen without the actor's own types. */
interface RecoveryContext {
	readonly actorId: string;
	/** Who is calling, for the access check (src/actors/access.ts). */
	readonly conn?: { readonly state: Identity } | undefined;
	readonly request?: Request | undefined;
	readonly state: Record<string, unknown>;
	readonly vars: Record<string, unknown>;
	readonly schedule: {
		at(timestamp: number, action: string, ...args: unknown[]): Promise<string>;
		get(id: string): Promise<unknown>;
		cancel(id: string): Promise<boolean>;
	};
	readonly log: Logger;
}

/** What this file changes of an actor's config: rivetkit's, seen without the actor's own types. */
interface HookedConfig {
	state?: unknown;
	createVars?: (...args: unknown[]) => unknown;
	onWake?: (c: RecoveryContext) => unknown;
	onSleep?: (c: RecoveryContext) => unknown;
	run?: ((c: RecoveryContext) => unknown) | { readonly run: unknown };
	actions: Record<string, unknown>;
}

export interface CrashRecoveryOptions<State> {
	/** Whether the actor has work in flight that must resume after a crash. */
	busy(state: State): boolean;
}

/**
 * Adds the watchdog to `definition`: its state record, its `watchdog`
 * action, and `onWake`/`onSleep` around the actor's own. Call it where the
 * actor is defined, before the registry is built.
 */
export function withCrashRecovery<D extends AnyActorDefinition, State>(
	definition: D,
	options: CrashRecoveryOptions<State>,
): D {
	const config = definition.config as unknown as HookedConfig;
	if (typeof config.state !== "object" || config.state === null) {
		throw new Error("withCrashRecovery: the actor needs a static `state` object");
	}
	if (WATCHDOG_ACTION in config.actions)
		throw new Error(`withCrashRecovery: the actor has a ${WATCHDOG_ACTION} action`);
	const busy = (c: RecoveryContext) => options.busy(c.state as State);
	config.state = { ...config.state, [SLOT]: null };

	const createVars = config.createVars;
	config.createVars = async (...args: unknown[]) => {
		const own = createVars ? await createVars(...args) : {};
		return { ...(own as object), [SLOT]: newGeneration() };
	};

	const onWake = config.onWake;
	config.onWake = (c) =>
		logWakeFailure(c, async () => {
			releaseOlderGeneration(c);
			await ensureWatchdog(c);
			startBusyCheck(c, busy);
			await onWake?.(c);
		});

	const onSleep = config.onSleep;
	config.onSleep = async (c) => {
		await onSleep?.(c);
		const generation = generationOf(c);
		clearInterval(generation.timer);
		// Idle: nothing to resume, so nothing should wake the actor. With a job
		// in flight (a deploy is draining it) or a restart under way the
		// watchdog stays armed to bring it back without any client traffic.
		if (!busy(c) && !generation.restarting) await serially(c, () => disarmWatchdog(c));
	};

	if (typeof config.run === "function") config.run = releasableRun(config.run);
	config.actions[WATCHDOG_ACTION] = (c: RecoveryContext, token: unknown) => fireWatchdog(c, token);
	return definition;
}

function newGeneration(): GenerationVars {
	let release = () => {};
	const released = new Promise<void>((resolve) => {
		release = resolve;
	});
	return { restarting: false, timer: undefined, queue: Promise.resolve(), superseded: false, release, released };
}

/**
 * Wraps the actor's run handler (the workflow) so that a superseded
 * generation's handler returns at once. The returned function keeps the
 * original's symbol properties, by which rivetkit recognises a workflow.
 */
function releasableRun(run: (c: RecoveryContext) => unknown): (c: RecoveryContext) => Promise<void> {
	const releasable = async (c: RecoveryContext): Promise<void> => {
		const generation = generationOf(c);
		runningGenerations.set(c.actorId, generation);
		const running = Promise.resolve(run(c));
		try {
			await Promise.race([running, generation.released]);
		} finally {
			if (runningGenerations.get(c.actorId) === generation) runningGenerations.delete(c.actorId);
		}
		if (generation.superseded) {
			// The abandoned workflow keeps failing on its own; nothing awaits it any more.
			running.catch((error: unknown) => {
				c.log.warn({ msg: "superseded generation's workflow ended", error: String(error) });
			});
		}
	};
	for (const symbol of Object.getOwnPropertySymbols(run)) {
		const descriptor = Object.getOwnPropertyDescriptor(run, symbol);
		if (descriptor) Object.defineProperty(releasable, symbol, descriptor);
	}
	return releasable;
}

/**
 * A newer generation of this actor is waking in this process while an older
 * one's run handler still runs: the older one was lost with the engine and
 * the engine has started this one in its place. Release the older one's run
 * handler (rivetkit runs one per actor id, so this one's would wait for it)
 * and stop its timer.
 */
function releaseOlderGeneration(c: RecoveryContext): void {
	// Only where it was measured: on the native runtime no overlapping
	// generation has been seen, and releasing a handler whose storage still
	// works would let two workflows of one actor run at once.
	if (process.env.RIVETKIT_RUNTIME !== "wasm") return;
	const current = generationOf(c);
	const older = runningGenerations.get(c.actorId);
	if (older === undefined || older === current) return;
	c.log.warn({ msg: "an older generation of this actor is still running here; releasing its run handler" });
	older.superseded = true;
	clearInterval(older.timer);
	runningGenerations.delete(c.actorId);
	older.release();
}

/**
 * The workflow itself failed (not a step, which retries on its own): the
 * run handler has ended and this generation would stay awake with no loop
 * taking jobs. Sleeping ends it; the watchdog wakes a fresh one, with a fresh
 * SQLite connection, whose workflow replays its history and re-runs only the
 * step that was in flight.
 */
export function restartAfterFailure(
	c: { readonly vars: unknown; sleep(): void; readonly log: Logger },
	error: string,
): void {
	const generation = generationOf(c);
	// A superseded generation is no longer the actor: a newer one runs its jobs.
	if (generation.superseded) return;
	c.log.error({ msg: "workflow failed; restarting the actor to resume its jobs", error });
	generation.restarting = true;
	c.sleep();
}

function generationOf(c: { readonly vars: unknown }): GenerationVars {
	const generation = (c.vars as Record<string, unknown> | undefined)?.[SLOT];
	if (generation === undefined) throw new Error("withCrashRecovery was not applied to this actor");
	return generation as GenerationVars;
}

function recordOf(c: RecoveryContext): WatchdogRecord | null {
	return (c.state[SLOT] as WatchdogRecord | null | undefined) ?? null;
}

/** Runs `step` after every earlier arm or cancel of this generation. */
function serially(c: RecoveryContext, step: () => Promise<void>): Promise<void> {
	const generation = generationOf(c);
	const done = generation.queue.then(step);
	generation.queue = done.catch(() => {});
	return done;
}

/** Who may call the watchdog action: its own schedule only (each actor's access table lists it so). */
const WATCHDOG_RULE = { kind: "action", callers: ["schedule"] } as const satisfies AccessRule;

/**
 * The watchdog action: the schedule's callback. Schedules can only call
 * actions, so clients can reach it too; the token, known only to the pending
 * schedule, keeps them out.
 */
async function fireWatchdog(c: RecoveryContext, token: unknown): Promise<void> {
	// Callers with an identity are refused like any schedule-only action's;
	// the token then tells the actor's own schedule from a stranger.
	guardSchedule(c, WATCHDOG_RULE);
	const expected = recordOf(c)?.token;
	if (typeof token !== "string" || expected === undefined || !safeEqual(token, expected)) {
		throw new UserError("watchdog is called by the actor's own schedule, not by clients", { code: "forbidden" });
	}
	c.state[SLOT] = null;
	// Firing woke the actor, which is all a crashed job needs: the workflow
	// resumes as the actor starts. Re-arm while awake.
	await ensureWatchdog(c);
}

/** Keeps one watchdog schedule pending while the actor is awake. */
function ensureWatchdog(c: RecoveryContext): Promise<void> {
	return serially(c, async () => {
		const armed = recordOf(c);
		if (armed && (await c.schedule.get(armed.id))) return;
		await armWatchdog(c);
	});
}

/**
 * Schedules a watchdog a full interval from now and records it. The schedule
 * is durable once `at` resolves; the token rides the next state save
 * (`saveState({ immediate: true })` never resolves inside onWake in rivetkit
 * 2.3.19). If a crash loses the token, the old schedule still wakes the
 * actor when it fires; it is refused, and the wake arms a new one.
 */
async function armWatchdog(c: RecoveryContext): Promise<void> {
	const token = randomUUID();
	const runAt = Date.now() + WATCHDOG_INTERVAL_MS;
	const id = await c.schedule.at(runAt, WATCHDOG_ACTION, token);
	c.state[SLOT] = { id, token, runAt } satisfies WatchdogRecord;
}

/** While `busy`, pushes the watchdog back to a full interval before its lead falls under WATCHDOG_MIN_LEAD_MS. */
function startBusyCheck(c: RecoveryContext, busy: (c: RecoveryContext) => boolean): void {
	const generation = generationOf(c);
	clearInterval(generation.timer);
	generation.timer = setInterval(() => {
		if (generation.superseded || !busy(c)) return;
		const armed = recordOf(c);
		if (armed?.runAt !== undefined && armed.runAt - Date.now() >= WATCHDOG_MIN_LEAD_MS + WATCHDOG_CHECK_INTERVAL_MS) {
			return;
		}
		serially(c, () => keepAhead(c)).catch((error: unknown) => {
			c.log.warn({ msg: "could not re-arm the watchdog", error: String(error) });
		});
	}, WATCHDOG_CHECK_INTERVAL_MS);
	generation.timer.unref();
}

async function keepAhead(c: RecoveryContext): Promise<void> {
	const armed = recordOf(c);
	if (armed?.runAt !== undefined && armed.runAt - Date.now() >= WATCHDOG_MIN_LEAD_MS + WATCHDOG_CHECK_INTERVAL_MS)
		return;
	// The new one is armed before the old one is cancelled: never a moment without one.
	await armWatchdog(c);
	if (armed) await c.schedule.cancel(armed.id);
}

async function disarmWatchdog(c: RecoveryContext): Promise<void> {
	const armed = recordOf(c);
	if (!armed) return;
	await c.schedule.cancel(armed.id);
	// rivetkit saves the state right after onSleep returns.
	c.state[SLOT] = null;
}
