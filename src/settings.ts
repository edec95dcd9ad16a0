// Settings from the environment: the one parser and the one error for all of
// them (the server's in env.ts, the auth secrets, the runtime, each actor
// family's settings.ts), and the one way a bad value stops the server.
//
// Every parser is pure (it takes the record to read), so tests feed it any
// environment; each bad variable is one line of the `SettingsError`, so a
// deploy that misses three settings fails once with three lines.

import type { z } from "zod";

/** Settings that failed to parse; one line per bad variable, ready to print. */
export class SettingsError extends Error {
	readonly lines: string[];

	constructor(lines: string[]) {
		super(`invalid environment:\n${lines.join("\n")}`);
		this.lines = lines;
	}
}

/** The record without empty values: an empty string means "unset" (e.g. `AUTH_SECRET=` in a .env file). */
export function withoutEmpty(source: Record<string, string | undefined>): Record<string, string> {
	return Object.fromEntries(
		Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""),
	);
}

/** A zod error's issues as `SettingsError` lines: `  VARIABLE: message`. */
export function settingsLines(error: z.ZodError): string[] {
	return error.issues.map((i) => `  ${i.path.join(".") || "env"}: ${i.message}`);
}

/** Parses `source` (empty values unset) with `schema`, or throws `SettingsError`. */
export function parseSettings<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>): z.output<S> {
	const result = schema.safeParse(withoutEmpty(source));
	if (result.success) return result.data;
	throw new SettingsError(settingsLines(result.error));
}

/**
 * Runs `read` at boot; a `SettingsError` stops the process with its lines
 * (the only place an invalid environment exits). Anything else is a bug and
 * propagates.
 */
export function exitOnInvalidSettings<T>(read: () => T): T {
	try {
		return read();
	} catch (error) {
		if (!(error instanceof SettingsError)) throw error;
		console.error(`actor-fleet: invalid environment, not starting:\n${error.lines.join("\n")}`);
		process.exit(1);
	}
}
