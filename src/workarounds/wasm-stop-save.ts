// WORKAROUND for a rivetkit-wasm 2.3.19 bug: on the wasm runtime, a workflow
// save made as the actor begins to stop may never be answered, and then the
// actor can never wake again.
//
// What was measured (2026-12-07, a loop of "send a job with wait: true, put
// the worker to sleep through the engine, read the job back" on
// `FLEET_RUNTIME=wasm`; the example worker's test "a wake right after
// sleeping finds the worker" is that loop): when the sleep arrives while the
// worker's workflow turns to the next job, the workflow's save of its state
// and history (`ActorContext.saveStateAndWorkflowBatch`) is sent as the stop
// begins. The engine logs the write as done, but the promise in JavaScript
// never settles. rivetkit waits for the actor's tracked shutdown work, which
// includes that save, so the stop never finishes; the engine, which already
// counts the actor asleep, defers every wake "until after stop" and answers
// each request `actor_ready_timeout` after 30 s, forever. In 6 of 6 runs of
// the loop without this file an actor was stuck within its first 30 rounds;
// with it, 0 of 100 rounds were stuck, and 30 of those 100 wakes came about
// STOP_SAVE_DEADLINE_MS late: the stops it rescued.
// The same wedge failed the wasm parity run in CI (the worker test "results
// and counts survive the actor sleeping", 1 run in 3 after the main suite).
//
// Upstream report (rivet-dev/rivet, rivetkit-wasm; not filed from here):
//
//   Title: rivetkit-wasm: `saveStateAndWorkflowBatch` issued as an actor
//   begins to sleep never resolves, so the actor never finishes stopping
//
//   rivetkit 2.3.19, `RIVETKIT_RUNTIME=wasm`, engine 2.3.19. A workflow actor
//   waiting on its queue; put it to sleep (`POST /actors/{id}/sleep`) right
//   after a queue message completes. The workflow's flush after its
//   `MessageWaitError` calls `saveStateAndWorkflowBatch`; the engine logs the
//   SQLite batch complete, but the promise never settles,
//   `waitForTrackedShutdownWork` never returns, and the engine logs "cannot
//   wake an actor that intends to sleep but has not stopped yet, deferring
//   wake until after stop" and then `actor_ready_timeout` on every request.
//   The napi runtime does not show it. Expected: the save settles (resolved
//   or rejected) once the actor stops, so the stop completes.
//
// Until then, this module wraps `ActorContext.prototype.saveStateAndWorkflowBatch`
// of the wasm bindings (the very module instance rivetkit uses; see
// wasm-core.ts): once the actor's abort signal has fired (its stop began), a
// save still unanswered after STOP_SAVE_DEADLINE_MS is rejected. rivetkit's
// workflow treats an error after the abort as the sleep it is, its run
// handler returns and the stop completes. Nothing is acknowledged that was
// not answered: whether the write landed is then unknown, exactly as after a
// crash, and the next wake replays the workflow from what is stored (the
// worker's steps are written for that; src/actors/jobs/worker.ts). Saves
// answered in time, and every save while the actor is not stopping, pass
// through untouched. If the class or the method is absent (another
// rivetkit-wasm version), nothing is wrapped and wasm-core.ts warns once.
//
// Remove this file, and its use in wasm-core.ts, when rivetkit-wasm settles
// the save: the worker's "a wake right after sleeping" test passes on wasm
// a few times in a row without it.

/** How long a save may stay unanswered once its actor began to stop. Answered saves take milliseconds. */
export const STOP_SAVE_DEADLINE_MS = 2_000;

/** The method this module wraps. */
export const STOP_SAVE_METHOD = "saveStateAndWorkflowBatch";

/** The wasm bindings' `ActorContext` class, as far as this workaround touches it. */
export interface ActorContextClass {
	prototype: Record<string, unknown>;
}

/** What a wrapped call uses of its actor context: its stop signal. */
interface StoppableContext {
	abortSignal(): AbortSignal;
}

/** Rejects a save that the core left unanswered after its actor began to stop. */
export class StopSaveUnansweredError extends Error {
	constructor() {
		super(
			`not saved: no answer ${STOP_SAVE_DEADLINE_MS} ms after the actor began to stop ` +
				"(rivetkit-wasm 2.3.19; src/workarounds/wasm-stop-save.ts)",
		);
		this.name = "StopSaveUnansweredError";
	}
}

/**
 * `save`'s promise, or a rejection once `signal` has fired and the save has
 * stayed unanswered for `deadlineMs` since (whichever is first).
 */
export function settleAfterStop<T>(save: Promise<T>, signal: AbortSignal, deadlineMs: number): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		let timer: ReturnType<typeof setTimeout> | undefined;
		const startDeadline = () => {
			timer = setTimeout(() => reject(new StopSaveUnansweredError()), deadlineMs);
		};
		const settle = () => {
			clearTimeout(timer);
			signal.removeEventListener("abort", startDeadline);
		};
		save.then(
			(value) => {
				settle();
				resolve(value);
			},
			(error: unknown) => {
				settle();
				reject(error);
			},
		);
		if (signal.aborted) startDeadline();
		else signal.addEventListener("abort", startDeadline, { once: true });
	});
}

/**
 * Wraps the save method of `ActorContext` so that it settles once its actor
 * stops. Returns false (and wraps nothing) when the class or the method is
 * missing.
 */
export function settleSavesOnStop(ActorContext: ActorContextClass | undefined): boolean {
	const original = ActorContext?.prototype[STOP_SAVE_METHOD];
	if (!ActorContext || typeof original !== "function") return false;
	const save = original as (this: StoppableContext, writes: unknown) => Promise<unknown>;
	ActorContext.prototype[STOP_SAVE_METHOD] = function settledSave(this: StoppableContext, writes: unknown) {
		const pending = save.call(this, writes);
		let signal: AbortSignal;
		try {
			signal = this.abortSignal();
		} catch {
			// No signal to watch (a context being torn down): the save as it is.
			return pending;
		}
		return settleAfterStop(pending, signal, STOP_SAVE_DEADLINE_MS);
	};
	return true;
}
