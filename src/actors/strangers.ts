// Nothing left by strangers.
//
// A client's `getOrCreate(key)` makes the engine create the actor before the
// actor hears from the client: `onBeforeConnect` runs in an actor that
// already exists. A refused first connection (no token, a forged or expired
// one, a browser from another origin) would leave that actor behind for
// good, so anyone could fill the engine with actors nobody owns, each woken
// and listed like a real one (the resume at start looks at the newest
// coordinators only, and these would push real batches out of its view).
//
// So every example actor admits connections through `admitOrForget`: when it
// refuses one while it holds nothing (nothing was ever written to it) and no
// other connection is open, it destroys itself before passing the refusal
// on. A destroyed actor is gone from the engine's list, and its key is free:
// a later `getOrCreate` by someone with a token creates it afresh, exactly
// as if the stranger had never come.
//
// The race this leaves open, on purpose: a signed-in client whose first
// connection to a brand-new key is being admitted at the very moment a
// stranger is refused there sees its call fail once (the actor it reached
// was destroyed) and, retrying, creates the actor again. Nothing is lost,
// since the actor held nothing.

import { UserError } from "rivetkit";

/** What `admitOrForget` needs of an actor's `onBeforeConnect` context. */
export interface ForgettableContext {
	/** The connections open now; the one being admitted is not among them yet. */
	conns: { readonly size: number };
	destroy(): void;
}

/**
 * For `onBeforeConnect`: runs `admit`, which verifies the caller and throws a
 * `UserError` to refuse it. On a refusal, when no connection is open and
 * `holdsNothing()` says nothing was ever written to this actor, destroys the
 * actor, then rethrows the refusal unchanged.
 */
export async function admitOrForget<T>(
	c: ForgettableContext,
	holdsNothing: () => boolean | Promise<boolean>,
	admit: () => T | Promise<T>,
): Promise<T> {
	try {
		return await admit();
	} catch (error) {
		if (error instanceof UserError && c.conns.size === 0 && (await holdsNothing())) {
			try {
				c.destroy();
			} catch {
				// Already stopping (asleep soon, or destroyed by another refusal):
				// the refusal below is what the caller needs either way.
			}
		}
		throw error;
	}
}
