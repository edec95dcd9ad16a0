// Retrying an action call that is safe to repeat.
//
// A call that timed out or lost its connection may still have been applied by
// the actor, so only calls carrying an idempotency key (a `requestId` the
// actor remembers) are retried. Errors the actor raised on purpose (`user.*`)
// are final and thrown at once.

import { isUserError } from "./errors.ts";

/** Attempts per call, the first included. */
const MAX_ATTEMPTS = 3;
/** Wait before the second attempt; doubles each time. */
const FIRST_BACKOFF_MS = 300;

export async function retryIdempotent<T>(call: () => Promise<T>): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await call();
		} catch (error) {
			if (isUserError(error) || attempt >= MAX_ATTEMPTS) throw error;
			await new Promise((resolve) => setTimeout(resolve, FIRST_BACKOFF_MS * 2 ** (attempt - 1)));
		}
	}
}
