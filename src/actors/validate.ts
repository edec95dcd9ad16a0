// Input validation shared by every actor: action arguments and settings.
//
// Actions are public: anyone who can reach the engine gateway can call them
// with any JSON. Each action parses its arguments with zod before touching
// state, and rejects bad input with a `UserError` whose `code` is stable, so
// clients can branch on it and a rejected call changes nothing.

import { UserError } from "rivetkit";
import type { z } from "zod";

/** The `code` every validation failure carries. Clients can rely on it. */
export const INVALID_INPUT = "invalid_input";

/**
 * Parses `value` with `schema` or throws `UserError(code: "invalid_input")`.
 * The error's metadata lists each bad field as `path: message`; it never
 * echoes the input itself back.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
	const result = schema.safeParse(value);
	if (result.success) return result.data;
	const issues = result.error.issues.map((issue) => {
		const where = issue.path.length > 0 ? issue.path.join(".") : what;
		return `${where}: ${issue.message}`;
	});
	throw new UserError(`invalid input: ${issues.join("; ")}`, {
		code: INVALID_INPUT,
		metadata: { issues },
	});
}

/** Settings that failed to parse; one line per bad variable, ready to print. */
export class SettingsError extends Error {
	readonly lines: string[];

	constructor(lines: string[]) {
		super(`invalid environment:\n${lines.join("\n")}`);
		this.lines = lines;
	}
}

/**
 * Parses an actor family's settings from an environment record, the way
 * `src/env.ts` parses the server's: empty strings mean "unset" (e.g.
 * `ALLOWED_ORIGINS=` in a .env file), and each bad variable is one line of the
 * `SettingsError`.
 */
export function parseSettings<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>): z.output<S> {
	const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
	const result = schema.safeParse(cleaned);
	if (result.success) return result.data;
	throw new SettingsError(result.error.issues.map((i) => `  ${i.path.join(".") || "env"}: ${i.message}`));
}
