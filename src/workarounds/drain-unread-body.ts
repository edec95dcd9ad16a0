// WORKAROUND for rivetkit 2.3.19 on the native runtime: when an actor
// answers an HTTP request without reading its body (rivetkit's inspector
// refusing a wrong token, a 404 for an actor without `onRequest`), rivetkit
// cancels the unread body before it sends the answer
// (`cancelNativeHttpRequestBody`). The cancel crosses the engine while the
// answer streams back, and the add-on's envoy client then sometimes judges
// the engine's reply to it out of sequence and aborts its own answer after
// the answer's head: the client sees `other side closed`, and the engine logs
// "streaming http response aborted by envoy … invalid HTTP
// request-body-cancel sequence" (the text is the add-on's, envoy-client
// `tunnel.rs`). It happens with or without TCP_NODELAY on the core's engine
// connection (envoy-nodelay.ts), and more often with it. Measured against one
// engine, inspector PATCHes with a wrong token, the answer read whole: one at
// a time, 14-279 of 300-600 cut without this file (TCP_NODELAY on) and 0 of
// 2,700 with it; 8 at a time, 234 of 2,000 (TCP_NODELAY off) and 69-405 of
// 800 (on) without it, and 1-17 of 800-2,000 with it. The few left are the
// same race by another road (8 of 2,000 with TCP_NODELAY off and this file),
// and a client may send such a request again: nothing it asked was applied.
//
// The repair: the body stream's `cancel()` reads what is left of the body
// first, so the request ends the way every answered request does, and only
// cancels for real past `DRAIN_MAX_BYTES` or `DRAIN_MAX_MS`. Refused
// requests' bodies are small; a larger or slower one is cancelled as before.
// A body that was read to the end has nothing left, so the usual path costs
// one read that returns at once.
//
// What this means for an `onRequest` handler (this app has none): rivetkit
// calls `cancel()` in the handler's `finally`, before the answer leaves, so
// an answer given while the request body is still arriving waits for the
// drain (at most `DRAIN_MAX_MS`), and a handler's own `request.body.cancel()`
// drains too.
//
// Delete when rivetkit answers before cancelling (or its envoy client accepts
// the engine's reply to a cancel): test/runtime/drain-unread-body-workaround.test.ts
// then passes with this file's hook removed.

import { createRequire } from "node:module";

/** The most of an unread body read before giving up and cancelling it, in bytes. */
const DRAIN_MAX_BYTES = 64 * 1024;
/** The longest an unread body is read for before cancelling it, in milliseconds. */
const DRAIN_MAX_MS = 500;

/** The part of the native add-on's request body stream this file uses. */
interface RequestBodyStream {
	read(): Promise<Buffer | null>;
	cancel(): Promise<void>;
}

let applied = false;

/** Makes the native core's request body `cancel()` drain the body first (idempotent). */
export function drainUnreadBodies(): void {
	if (applied) return;
	applied = true;
	// rivetkit loads its add-on as `@rivetkit/rivetkit-napi` from its own
	// folder; resolving it from there gives the same module, so the same class.
	const fromRivetkit = createRequire(import.meta.resolve("rivetkit"));
	const { HttpRequestBodyStream } = fromRivetkit("@rivetkit/rivetkit-napi") as {
		HttpRequestBodyStream: { prototype: RequestBodyStream };
	};
	const prototype = HttpRequestBodyStream.prototype;
	const cancel = prototype.cancel;
	prototype.cancel = async function drainThenCancel(this: RequestBodyStream): Promise<void> {
		const stopped = await drain(this);
		if (stopped === "drained") return;
		// A body the client stopped sending is over already; one past a limit is worth a line.
		if (stopped !== "read failed") {
			console.warn(
				`actor-fleet: an unread request body was cancelled (${stopped}); src/workarounds/drain-unread-body.ts`,
			);
		}
		await cancel.call(this);
	};
}

/** Reads `body` to its end within the limits, or says what stopped it first. */
async function drain(
	body: RequestBodyStream,
): Promise<"drained" | "over DRAIN_MAX_MS" | "over DRAIN_MAX_BYTES" | "read failed"> {
	const deadline = Date.now() + DRAIN_MAX_MS;
	let bytes = 0;
	try {
		for (;;) {
			const left = deadline - Date.now();
			if (left <= 0) return "over DRAIN_MAX_MS";
			let timer: NodeJS.Timeout | undefined;
			const chunk = await Promise.race([
				body.read(),
				new Promise<"late">((resolve) => {
					timer = setTimeout(() => resolve("late"), left);
				}),
			]).finally(() => clearTimeout(timer));
			if (chunk === "late") return "over DRAIN_MAX_MS";
			if (chunk === null) return "drained";
			bytes += chunk.byteLength;
			if (bytes > DRAIN_MAX_BYTES) return "over DRAIN_MAX_BYTES";
		}
	} catch {
		// The add-on fails the read when the client hung up mid-body.
		return "read failed";
	}
}
