// Input validation shared by every actor: action arguments. (Settings are
// parsed by src/settings.ts.)
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
