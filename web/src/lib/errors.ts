// Turns whatever an action call or a connection threw into one line a person
// can read, keeping the actor's stable error code when there is one.

import { RivetError } from "rivetkit/client";

export interface DescribedError {
	/** `group.code` for errors from actors and the engine, e.g. `user.invalid_input`. */
	code: string | undefined;
	message: string;
}

export function describeError(error: unknown): DescribedError {
	if (RivetError.isRivetError(error)) return { code: `${error.group}.${error.code}`, message: error.message };
	if (error instanceof Error) return { code: undefined, message: error.message };
	return { code: undefined, message: String(error) };
}

/**
 * A user error is the actor refusing the input: retrying the same call gets
 * the same answer. Anything else (network, engine, actor restarting) may
 * succeed on a retry.
 */
export function isUserError(error: unknown): error is RivetError {
	return RivetError.isRivetError(error) && error.group === "user";
}
