// Nothing left by strangers.
//
// A client's `getOrCreate(key)` makes the engine create the actor before the
// actor hears from the client: the connect hook (`createConnState`) runs in
// an actor that already exists. A refused first connection (no token, a forged or expired
// one, a browser from another origin) would leave that actor behind for
// good, so anyone could fill the engine with actors nobody owns, each woken
// and listed like a real one (and pushing real actors out of any view that
// lists only the newest).
//
// So every actor admits connections through `admitOrForget`: when it
// refuses one, it checks again a little later (FORGET_AFTER_MS after the
// last refusal), and if by then it holds nothing (nothing was ever written
// to it) and no connection is open, it destroys itself. A destroyed actor is
// gone from the engine's list, and its key is free: a later `getOrCreate` by
// someone with a token creates it afresh, as if the stranger had never come.
//
// Why later and not at once: measured on this machine (rivetkit 2.3.19, with
// the example chat room), destroying inside the refusal
// made the stranger's next calls to the same key, a moment later, fail with
// `actor/destroyed_while_waiting_for_ready` or "Actor not found" instead of
// their refusal, and a signed-in caller arriving in that moment would fail
// the same way. Waiting for a quiet moment keeps every caller's answer the
// same as before; only an idle, empty actor goes.
//
// Measured with the example actors on the native runtime (the default): 100
// token-less calls on fresh keys of all four left 0 actors listed.
// example-actors:start (the README's removal block deletes these lines)
// That test is test/actors/strangers.test.ts.
// example-actors:end
// lab:start (the README's lab removal block deletes these lines)
// Not yet on the lab's wasm runtime (`FLEET_RUNTIME=wasm`): there, the refused
// actors without SQLite were destroyed, but those with SQLite were
// reported asleep by the engine within about a second of the refusal, before
// the check ran, and stayed listed; the cause was not traced.
// lab:end
//
// The race this leaves open, on purpose: a signed-in client whose first call
// to that key arrives exactly as the actor destroys itself sees one failed
// call and, retrying, creates the actor again. Nothing is lost: it held
// nothing.

import { UserError } from "rivetkit";

/** How long after its last refusal an actor that holds nothing waits, quiet, before destroying itself. */
export const FORGET_AFTER_MS = 5_000;

/** What `admitOrForget` needs of an actor's `createConnState` context. */
export interface ForgettableContext {
	readonly actorId: string;
	/** The connections open now; the one being admitted is not among them yet. */
	conns: { readonly size: number };
	/** Holds the actor awake until `promise` settles. */
	keepAwake<T>(promise: Promise<T>): Promise<T>;
	destroy(): void;
}

interface PendingCheck {
	timer: NodeJS.Timeout;
	/** Lets the actor sleep again (ends its `keepAwake`). */
	release: () => void;
}

/** Per actor id in this process: the pending check after a refusal (a new refusal restarts it). */
const pendingChecks = new Map<string, PendingCheck>();

/**
 * For `createConnState`: runs `admit`, which verifies the caller and returns
 * its connection state or throws a `UserError` to refuse it, and rethrows
 * that refusal unchanged. After a
 * refusal, FORGET_AFTER_MS later (restarted by every further refusal), the
 * actor destroys itself when no connection is open and `holdsNothing()`
 * says nothing was ever written to it.
 */
export async function admitOrForget<T>(
	c: ForgettableContext,
	holdsNothing: () => boolean | Promise<boolean>,
	admit: () => T | Promise<T>,
): Promise<T> {
	try {
		return await admit();
	} catch (error) {
		if (error instanceof UserError) forgetLaterIfEmpty(c, holdsNothing);
		throw error;
	}
}

function forgetLaterIfEmpty(c: ForgettableContext, holdsNothing: () => boolean | Promise<boolean>): void {
	const actorId = c.actorId;
	const previous = pendingChecks.get(actorId);
	if (previous !== undefined) {
		clearTimeout(previous.timer);
		previous.release();
	}
	let release = () => {};
	// The actor stays awake until the check has run: asleep, it could no
	// longer destroy itself, and nothing would wake it.
	void c.keepAwake(new Promise<void>((resolve) => (release = resolve))).catch(() => {});
	const timer = setTimeout(async () => {
		pendingChecks.delete(actorId);
		try {
			if (c.conns.size === 0 && (await holdsNothing())) c.destroy();
		} catch {
			// Stopping meanwhile (a deploy drains it): this generation can no
			// longer read its state or destroy itself. An actor that stopped
			// empty is refused the same way on its next wake, and checked then.
		} finally {
			release();
		}
	}, FORGET_AFTER_MS);
	// A pending check never keeps the server process alive.
	timer.unref();
	pendingChecks.set(actorId, { timer, release: () => release() });
}
