// The vocabulary of the access tables: who may call an action, read an event
// or publish to a queue. Each actor family's contract.ts exports its table in
// these terms; docs/auth.md shows them (rendered by `renderAccessTable`).
// example-actors:start (the README's removal block deletes these lines)
// test/actors/authorization.test.ts checks every cell against a real engine,
// so the docs and the code cannot drift apart.
// example-actors:end
//
// Browser-importable: it imports nothing.

/**
 * - `user`: any signed-in person (a user or an operator access token);
 * - `owner`: the user recorded as the owner (a counter's first writer, a
 *   room's first user, a batch's first submitter), by the token's `userId`;
 * - `self`: any signed-in user, acting only on data keyed by their own `userId`;
 * - `operator`: an access token with role `operator`;
 * - `server`: a server token (`serverConnParams()`), i.e. another actor of this app;
 * - `schedule`: only the actor's own schedule, through a secret no action returns.
 *
 * The inspector is not listed per rule: an inspector action call runs as an
 * operator (`INSPECTOR_IDENTITY` in src/auth/connection.ts), so it may make
 * exactly the calls `operatorMay` allows, and the rendered table shows that
 * as a column of its own.
 */
export type Caller = "user" | "owner" | "self" | "operator" | "server" | "schedule";

export interface AccessRule {
	/** "action", "event" (checked per connection before each send) or "queue" (`canPublish`). */
	kind: "action" | "event" | "queue";
	callers: readonly Caller[];
	/** The SCREAMING_CASE constant that rate-limits it, if any. */
	rateLimit?: string;
	/** One short sentence a reader of the table needs. */
	note?: string;
}

export type AccessTable = Readonly<Record<string, AccessRule>>;

/** Whether an operator may make this call: operators are signed-in people too, so `user` and `self` let them in. */
export function operatorMay(rule: AccessRule): boolean {
	return rule.callers.some((caller) => caller === "user" || caller === "self" || caller === "operator");
}

/**
 * The inspector column: "yes" or "no" for an action (an inspector action
 * call runs as an operator), "—" for events (an inspector call has no
 * connection to receive them) and queues (the inspector sends to a queue
 * through its own route, not through `canPublish`).
 */
export function inspectorCell(rule: AccessRule): "yes" | "no" | "—" {
	if (rule.kind !== "action") return "—";
	return operatorMay(rule) ? "yes" : "no";
}

/** The access tables as one Markdown table (what docs/auth.md shows). */
export function renderAccessTable(tables: Readonly<Record<string, AccessTable>>): string {
	const rows = [
		"| actor | name | kind | who may call it | inspector | rate limit | note |",
		"| ----- | ---- | ---- | --------------- | --------- | ---------- | ---- |",
	];
	for (const [actor, table] of Object.entries(tables)) {
		for (const [name, rule] of Object.entries(table)) {
			const limit = rule.rateLimit === undefined ? "—" : `\`${rule.rateLimit}\``;
			rows.push(
				`| ${actor} | \`${name}\` | ${rule.kind} | ${rule.callers.join(", ")} | ${inspectorCell(rule)} | ${limit} | ${rule.note ?? ""} |`,
			);
		}
	}
	return rows.join("\n");
}
