// WORKAROUND for rivetkit 2.3.19: an `onWake` that throws is not logged.
//
// Measured 2026-12-06: the example worker's `onWake` threw after every crash
// (on the wasm runtime, where `schedule.get` threw), and the app server's log
// said nothing at any log level; the engine retried the start once and the
// actor stayed asleep with its jobs queued. The only trace was a ledger that
// stopped moving. rivetkit's `onWake` wrapper
// (`registry/native.ts`, `wrapNativeCallback`) hands the error to the core,
// which turns it into a failed start without printing it.
//
// Upstream report (rivet-dev/rivet, rivetkit; not filed from here): "An
// error thrown by `onWake` fails the actor's start silently: nothing is
// logged at any level, and the engine's retry fails the same way. Expected:
// one error line with the actor's name, key and the error, as a failing
// action gets."
//
// Until then, every actor with an `onWake` runs its body through
// `logWakeFailure`: the error is logged on the actor's own logger (with its
// name, key and id, like rivetkit's other lines) and thrown on, so the start
// still fails exactly as before; only the silence is gone. Remove this file
// when rivetkit logs the failure itself.

/** The part of an actor context this file needs. */
export interface WakeContext {
	readonly log: { error(fields: Record<string, unknown>): void };
}

/** The line logged when an actor's `onWake` throws. */
export const WAKE_FAILURE_MESSAGE = "onWake failed; the actor does not start until a later wake succeeds";

/** Runs `wake` (an actor's `onWake` body); if it throws, logs one error line and throws the same error. */
export async function logWakeFailure(c: WakeContext, wake: () => Promise<void>): Promise<void> {
	try {
		await wake();
	} catch (error) {
		c.log.error({
			msg: WAKE_FAILURE_MESSAGE,
			error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
		});
		throw error;
	}
}
