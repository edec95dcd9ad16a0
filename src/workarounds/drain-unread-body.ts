// WORKAROUND for rivetkit 2.3.19 on the native runtime: when an actor
// answers an HTTP request without reading its body (rivetkit's inspector
// refusing a wrong token, a 404 for an actor without `onRequest`), rivetkit
// cancels the unread body before it sends the answer
// (`cancelNativeHttpRequestBody`). The cancel reaches the engine as its own
// message, and with TCP_NODELAY on the core's engine connection
// (envoy-nodelay.ts) it arrives on its own, ahead of the answer; the engine
// then sometimes drops the client's connection instead of answering.
// Measured against one engine with envoy-nodelay.ts on: 14 and 29 of 300
// inspector PATCHes with a wrong token dropped (`UND_ERR_SOCKET`), 0 of 300
// without TCP_NODELAY, 0 of 300 with this file.
//
// The repair: the body stream's `cancel()` reads what is left of the body
// first, so the request ends the way every answered request does, and only
// cancels for real past `DRAIN_MAX_BYTES` or `DRAIN_MAX_MS` (a body that
// large or that slow is not worth waiting for; the engine already bounds a
// request's size). A body that was read to the end has nothing left, so the
// usual path costs one read that returns at once.
//
// Delete when rivetkit answers before cancelling (or the engine keeps the
// connection after a cancel): test/runtime/drain-unread-body-workaround.test.ts
// then passes with this file's hook removed.

import { createRequire } from "node:module";

/** The most of an unread body read before giving up and cancelling it, in bytes. */
const DRAIN_MAX_BYTES = 1024 * 1024;
/** The longest an unread body is read for before cancelling it, in milliseconds. */
const DRAIN_MAX_MS = 2_000;

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
		if (await drained(this)) return;
		await cancel.call(this);
	};
}

/** Reads `body` to its end within the limits; false if a limit came first (or a read failed). */
async function drained(body: RequestBodyStream): Promise<boolean> {
	const deadline = Date.now() + DRAIN_MAX_MS;
	let bytes = 0;
	try {
		for (;;) {
			const left = deadline - Date.now();
			if (left <= 0) return false;
			let timer: NodeJS.Timeout | undefined;
			const chunk = await Promise.race([
				body.read(),
				new Promise<"late">((resolve) => {
					timer = setTimeout(() => resolve("late"), left);
				}),
			]).finally(() => clearTimeout(timer));
			if (chunk === "late") return false;
			if (chunk === null) return true;
			bytes += chunk.byteLength;
			if (bytes > DRAIN_MAX_BYTES) return false;
		}
	} catch {
		return false;
	}
}
