// WORKAROUND for `@rivetkit/react` 2.3.11 (its `@rivetkit/framework-base`):
// the hook cannot tell a panel that rivetkit gave up on a connection or that
// the actor refused it, so this file listens on the connection itself.
//
// What the hook does (read in node_modules/@rivetkit/framework-base/dist/mod.mjs,
// `getOrCreateActor`): when a connection goes `idle` while `enabled` is true,
// it creates a new one in a microtask, and that new connection's `create()`
// resets the hook's `error` to null. rivetkit 2.3.19 goes `idle` after one
// failed handshake without a reason (a refused TCP connection, an HTTP 503:
// rivet-dev/actors#5699) and after an actor's refusal (`UserError` in
// its connect hook). So through the hook's own `connStatus` and `error` a
// page sees neither: `idle` is replaced by `connecting` before React renders,
// the refusal is cleared, and the connection is retried at once, forever,
// without backoff. No upstream report for the hook's part was found (rivet-dev/actors
// issues searched 2026-12); #5699 covers rivetkit's.
//
// The fix stays on the official path: lib/actor.ts turns the hook's
// `enabled` off when this file reports a give-up (for the backoff) or a
// refusal (for good), so the hook's immediate retry costs at most one more
// handshake. Shown by test/web/app.test.ts ("a room that refuses the page on
// connect is shown as refused and not tried again and again": without the
// refusal handling here the refusal never shows).
// lab:start (the README's lab removal block deletes these lines)
// Exercised by test/faults/browser.test.ts (engine kill -9 and the network
// reset refuse handshakes; every panel comes back).
// lab:end
//
// Remove this file when `useActor` reports both (or backs off by itself).

import type { ActorConnStatus, ActorError } from "rivetkit/client";
import { isUserError } from "./errors.ts";

/** The part of a rivetkit `ActorConn` this file needs. */
export interface WatchableConnection {
	readonly connStatus: ActorConnStatus;
	onStatusChange(callback: (status: ActorConnStatus) => void): () => void;
	onError(callback: (error: ActorError) => void): () => void;
}

export interface ConnectionOutcomes {
	/** The connection is open. */
	live(): void;
	/** rivetkit stopped trying without a reason (it went `idle` with no refusal before it). */
	gaveUp(): void;
	/** The actor refused the connection with a `UserError`; retrying gets the same answer. */
	refused(error: ActorError): void;
}

/**
 * Reports what happens to one connection; returns the function that stops
 * listening. `hookError` is the hook's `error` when the caller started
 * watching: the connection may have failed before anyone listened (its
 * handshake can fail between React rendering it and an effect subscribing),
 * and then its status is already `idle` and the hook's `error` holds a
 * refusal, if there was one.
 */
export function watchConnectionOutcome(
	connection: WatchableConnection,
	outcomes: ConnectionOutcomes,
	hookError: unknown = null,
): () => void {
	let refused = false;
	// rivetkit's `connect()` sets `connecting` before it returns, so a
	// connection seen `idle` here has already ended.
	if (connection.connStatus === "connected") outcomes.live();
	else if (connection.connStatus === "idle") {
		if (isUserError(hookError)) {
			refused = true;
			outcomes.refused(hookError);
		} else outcomes.gaveUp();
	}
	const stopErrors = connection.onError((error) => {
		if (!isUserError(error)) return;
		refused = true;
		outcomes.refused(error);
	});
	const stopStatus = connection.onStatusChange((status) => {
		if (status === "connected") outcomes.live();
		else if (status === "idle" && !refused) outcomes.gaveUp();
	});
	return () => {
		stopErrors();
		stopStatus();
	};
}
