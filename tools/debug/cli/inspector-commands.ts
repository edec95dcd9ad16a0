// CLI commands on one actor's inspector. `<actor>` is `<name> <key>` or
// `--id ID`; the inspector token is read from the actor's KV unless
// `--inspector-token` is given.

import {
	type ActorInspector,
	INTERNAL_TABLE_PREFIX,
	type InspectorConnection,
	type Row,
	type SqlBindings,
	TRACES_STUB_NOTE,
	type WorkflowResult,
} from "../inspector.ts";
import { describeWorkflowHistory } from "../workflow-history.ts";
import {
	type Command,
	type CommandContext,
	expectArgs,
	INSPECTOR_OPTIONS,
	output,
	parseCount,
	parseJsonObject,
	parseLooseJson,
	parseStrictJson,
	takeInspector,
} from "./command.ts";
import { CommandFailure, formatTime, renderFields, renderTable, UsageError } from "./output.ts";

const ACTOR = "<actor>";

function connectionTable(connections: readonly InspectorConnection[]): string {
	return renderTable(
		["CONNECTION", "PARAMS", "STATE", "HIBERNATABLE"],
		connections.map((c) => [c.id, c.details.params, c.details.state, c.details.isHibernatable]),
		"no connections",
	);
}

function rowsTable(rows: readonly Row[], empty: string): string {
	const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
	return renderTable(
		columns,
		rows.map((row) => columns.map((c) => row[c])),
		empty,
	);
}

function workflowTable(result: WorkflowResult): string {
	if (!result.isWorkflowEnabled) return "this actor has no workflow";
	const entries = result.history ? describeWorkflowHistory(result.history) : [];
	const table = renderTable(
		["ENTRY", "KIND", "STATUS", "ATTEMPTS", "ID", "ERROR"],
		entries.map((e) => [e.path, e.kind, e.status, e.attempts, e.id, e.error]),
		"no history yet",
	);
	return `workflow: ${result.workflowState ?? "-"}\n${table}`;
}

/** Action or SQL arguments: positional values, or `--properties '{...}'`. */
function bindings(
	ctx: CommandContext,
	positional: readonly string[],
): { args: unknown[] } | { properties: Record<string, unknown> } {
	if (ctx.options.properties === undefined) return { args: positional.map(parseLooseJson) };
	if (positional.length > 0) throw new UsageError("give either positional arguments or --properties, not both");
	return { properties: parseJsonObject(ctx.options.properties, "--properties") };
}

const summary: Command = {
	words: ["summary"],
	usage: ACTOR,
	summary: "state, connections, actions, queue size and workflow state in one view",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `summary ${ACTOR}`);
		const s = await inspector.summary();
		output(ctx, { actorId: inspector.actorId, ...s }, () =>
			[
				renderFields([
					["actor", inspector.actorId],
					["state", s.isStateEnabled ? s.state : "(no state)"],
					["actions", s.rpcs.join(", ")],
					["queue", `${s.queueSize} pending`],
					["workflow", s.isWorkflowEnabled ? s.workflowState : "(none)"],
					["connections", s.connections.length],
				]),
				...(s.connections.length > 0 ? ["", connectionTable(s.connections)] : []),
			].join("\n"),
		);
	},
};

const stateGet: Command = {
	words: ["state", "get"],
	usage: ACTOR,
	summary: "the actor's state",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `state get ${ACTOR}`);
		const { state, isStateEnabled } = await inspector.state();
		if (!isStateEnabled) throw new CommandFailure("this actor has no state");
		output(ctx, state, () => JSON.stringify(state, null, 2));
	},
};

const stateSet: Command = {
	words: ["state", "set"],
	usage: `${ACTOR} <json>`,
	summary: "replace the actor's whole state (saved immediately, not validated by the actor)",
	options: INSPECTOR_OPTIONS,
	details: `Example: inspect state set counter home '{"count":5,"timers":{},"recentRequests":[]}'`,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 1, max: 1 }, `state set ${ACTOR} <json>`);
		const state = parseStrictJson(rest[0] ?? "", "the new state");
		await inspector.patchState(state);
		output(ctx, { ok: true }, () => "state replaced");
	},
};

const connections: Command = {
	words: ["connections"],
	usage: ACTOR,
	summary: "live connections with their params and connection state",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `connections ${ACTOR}`);
		const list = await inspector.connections();
		output(ctx, list, () => connectionTable(list));
	},
};

const rpcs: Command = {
	words: ["rpcs"],
	usage: ACTOR,
	summary: "the actor's action names",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `rpcs ${ACTOR}`);
		const names = await inspector.rpcs();
		output(ctx, names, () => names.join("\n") || "no actions");
	},
};

const call: Command = {
	words: ["call"],
	usage: `${ACTOR} <action> [args...] [--properties JSON]`,
	summary: "run an action through the inspector (skips the connect hooks)",
	options: [...INSPECTOR_OPTIONS, "properties"],
	details:
		'Each argument is parsed as JSON when it can be (5, true, {"a":1}, "\\"5\\"") and passed as a string otherwise.\nExample: inspect call counter home increment 5',
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		const [action, ...args] = rest;
		if (action === undefined) throw new UsageError(`usage: inspect call ${this.usage}`);
		const result = await inspector.callAction(action, bindings(ctx, args));
		output(ctx, { output: result }, () => (result === undefined ? "(no output)" : JSON.stringify(result, null, 2)));
	},
};

const queueStatus: Command = {
	words: ["queue", "status"],
	usage: `${ACTOR} [--limit N]`,
	summary: "pending queue messages (names and times)",
	options: [...INSPECTOR_OPTIONS, "limit"],
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `queue status ${this.usage}`);
		const limit = parseCount(ctx.options.limit, "--limit");
		const status = await inspector.queue(limit === undefined ? {} : { limit });
		output(ctx, status, () => {
			const table = renderTable(
				["ID", "NAME", "QUEUED AT"],
				status.messages.map((m) => [m.id, m.name, formatTime(m.createdAtMs)]),
				"queue is empty",
			);
			const more = status.truncated ? `\n(${status.size - status.messages.length} more not shown)` : "";
			return `${status.size} pending (max ${status.maxSize})\n${table}${more}`;
		});
	},
};

const queueSend: Command = {
	words: ["queue", "send"],
	usage: `${ACTOR} <queue> [json-body]`,
	summary: "enqueue a message through the inspector (any queue name)",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 1, max: 2 }, `queue send ${this.usage}`);
		const [name = "", body] = rest;
		const message = await inspector.sendQueue(name, body === undefined ? null : parseLooseJson(body));
		output(ctx, message, () => `queued message ${message.id} on "${message.name}"`);
	},
};

const queueClear: Command = {
	words: ["queue", "clear"],
	usage: ACTOR,
	summary: "delete every pending queue message",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `queue clear ${ACTOR}`);
		await inspector.clearQueue();
		output(ctx, { ok: true }, () => "queue cleared");
	},
};

const traces: Command = {
	words: ["traces"],
	usage: ACTOR,
	summary: "the actor's traces (a stub in rivetkit 2.3.19: always empty)",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `traces ${ACTOR}`);
		const result = await inspector.traces();
		output(ctx, { ...result, note: TRACES_STUB_NOTE }, () =>
			result.otlp.length === 0 ? `no traces: ${TRACES_STUB_NOTE}` : JSON.stringify(result.otlp, null, 2),
		);
	},
};

const metrics: Command = {
	words: ["metrics"],
	usage: ACTOR,
	summary: "the actor's metrics (not served by rivetkit 2.3.19; says where to look instead)",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `metrics ${ACTOR}`);
		const result = await inspector.metrics();
		output(ctx, result, () => JSON.stringify(result, null, 2));
	},
};

const workflowHistory: Command = {
	words: ["workflow", "history"],
	usage: ACTOR,
	summary: "the workflow's recorded entries: steps, loops, sleeps, messages",
	options: INSPECTOR_OPTIONS,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `workflow history ${ACTOR}`);
		const result = await inspector.workflowHistory();
		output(ctx, result, () => workflowTable(result));
	},
};

/** `--from` names an entry by id, by path (`job-loop[0]/process`) or by a unique name. */
async function findEntry(inspector: ActorInspector, from: string): Promise<string> {
	const { history } = await inspector.workflowHistory();
	const entries = history ? describeWorkflowHistory(history) : [];
	const match =
		entries.find((e) => e.id === from) ??
		entries.find((e) => e.path === from) ??
		(entries.filter((e) => e.name === from).length === 1 ? entries.find((e) => e.name === from) : undefined);
	if (!match) {
		const known = entries.map((e) => e.path).join(", ") || "none";
		throw new UsageError(`no single workflow entry matches "${from}" (entries: ${known})`);
	}
	return match.id;
}

const workflowReplay: Command = {
	words: ["workflow", "replay"],
	usage: `${ACTOR} [--from ENTRY]`,
	summary: "re-run a finished workflow from an entry (or from the start)",
	options: [...INSPECTOR_OPTIONS, "from"],
	details: "ENTRY is an entry id, a path such as first or job-loop[0]/process, or a unique entry name.",
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `workflow replay ${this.usage}`);
		const from = ctx.options.from === undefined ? undefined : await findEntry(inspector, ctx.options.from);
		const result = await inspector.replayWorkflow({ fromEntryId: from });
		output(
			ctx,
			result,
			() => `replaying ${from ? `from ${ctx.options.from}` : "from the start"}\n${workflowTable(result)}`,
		);
	},
};

const dbSchema: Command = {
	words: ["db", "schema"],
	usage: `${ACTOR} [--all]`,
	summary: "the actor's SQLite tables with columns and row counts (--all adds rivetkit's _rivet_* tables)",
	options: [...INSPECTOR_OPTIONS, "all"],
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `db schema ${this.usage}`);
		const all = await inspector.databaseSchema();
		const tables = ctx.options.all ? all : all.filter((t) => !t.table.name.startsWith(INTERNAL_TABLE_PREFIX));
		output(ctx, tables, () =>
			renderTable(
				["TABLE", "TYPE", "ROWS", "COLUMNS"],
				tables.map((t) => [
					t.table.name,
					t.table.type,
					t.records,
					t.columns.map((c) => `${c.name} ${c.type}${c.pk ? " pk" : ""}${c.notnull ? " not null" : ""}`).join(", "),
				]),
				"no tables of its own (--all shows rivetkit's internal tables)",
				// The column list is the point of this view: never cut it.
				Number.POSITIVE_INFINITY,
			),
		);
	},
};

const dbRows: Command = {
	words: ["db", "rows"],
	usage: `${ACTOR} <table> [--limit N] [--offset N]`,
	summary: "one page of a table's rows (limit ≤ 500, default 100)",
	options: [...INSPECTOR_OPTIONS, "limit", "offset"],
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		expectArgs(rest, { min: 1, max: 1 }, `db rows ${this.usage}`);
		const limit = parseCount(ctx.options.limit, "--limit");
		const offset = parseCount(ctx.options.offset, "--offset");
		const rows = await inspector.rows(rest[0] ?? "", {
			...(limit === undefined ? {} : { limit }),
			...(offset === undefined ? {} : { offset }),
		});
		output(ctx, rows, () => rowsTable(rows, "no rows"));
	},
};

const dbSql: Command = {
	words: ["db", "sql"],
	usage: `${ACTOR} "<sql>" [args...] [--properties JSON]`,
	summary: "run one SQL statement with ? args or :name properties (writes are allowed)",
	options: [...INSPECTOR_OPTIONS, "properties"],
	details: `Examples:\n  inspect db sql chatRoom lobby "SELECT * FROM messages WHERE author = ?" ann\n  inspect db sql chatRoom lobby "SELECT * FROM messages WHERE id > :after" --properties '{"after":10}'`,
	async run(ctx) {
		const { inspector, rest } = await takeInspector(ctx);
		const [sql, ...args] = rest;
		if (sql === undefined) throw new UsageError(`usage: inspect db sql ${this.usage}`);
		const bound: SqlBindings = bindings(ctx, args);
		const rows = await inspector.execute(sql, bound);
		output(ctx, rows, () => rowsTable(rows, "no rows"));
	},
};

export const inspectorCommands: readonly Command[] = [
	summary,
	stateGet,
	stateSet,
	connections,
	rpcs,
	call,
	queueStatus,
	queueSend,
	queueClear,
	traces,
	metrics,
	workflowHistory,
	workflowReplay,
	dbSchema,
	dbRows,
	dbSql,
];
