// How the inspect CLI prints: aligned tables and key/value blocks for people,
// `--json` for scripts, and exactly one line on stderr for any failure.

import {
	ActorNotFoundError,
	DebugError,
	DebugInputError,
	EngineUnreachableError,
	RivetApiError,
	WorkflowInFlightError,
} from "../errors.ts";

/** Widest a table cell may get before it is cut (JSON state can be long). */
const MAX_CELL_WIDTH = 80;

export interface CliIo {
	stdout(text: string): void;
	stderr(text: string): void;
	env: Record<string, string | undefined>;
}

/** Left-aligned columns separated by two spaces; an empty table prints `empty`. */
export function renderTable(
	headers: readonly string[],
	rows: ReadonlyArray<readonly unknown[]>,
	empty: string,
	maxCellWidth = MAX_CELL_WIDTH,
): string {
	if (rows.length === 0) return empty;
	const cells = rows.map((row) => row.map((value) => cell(value, maxCellWidth)));
	const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? "").length)));
	const line = (values: readonly string[]) =>
		values
			.map((v, i) => v.padEnd(widths[i] ?? 0))
			.join("  ")
			.trimEnd();
	return [line(headers), ...cells.map(line)].join("\n");
}

/** `label: value` lines with the labels aligned. */
export function renderFields(fields: ReadonlyArray<readonly [string, unknown]>): string {
	const width = Math.max(...fields.map(([label]) => label.length));
	return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${cell(value, Infinity)}`).join("\n");
}

/** A value as one short line: strings bare, everything else as compact JSON. */
export function cell(value: unknown, maxWidth = MAX_CELL_WIDTH): string {
	let text: string;
	if (value === undefined || value === null) text = "-";
	else if (typeof value === "string") text = value;
	else if (typeof value === "number" || typeof value === "boolean") text = String(value);
	else text = JSON.stringify(value);
	text = text.replace(/\s*\n\s*/g, " ");
	return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
}

export function formatTime(ts: number | null | undefined): string {
	if (ts === null || ts === undefined) return "-";
	return new Date(ts).toISOString().replace("T", " ").slice(0, 19);
}

export function printJson(io: CliIo, value: unknown): void {
	io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** The CLI's usage mistakes: printed like any failure, but exit code 2. */
export class UsageError extends DebugInputError {}

/** A command that ran but found nothing to show, or refused to act (exit code 1). */
export class CommandFailure extends DebugError {}

/**
 * One line describing a failure, e.g.
 * `actor.not_found: The actor does not exist or was destroyed. (HTTP 404, GET /gateway/…/health)`.
 */
export function describeError(error: unknown): string {
	if (error instanceof RivetApiError) {
		const cause = rootCause(error.metadata);
		const parts = [`${error.id}: ${error.message}${cause ? ` (${cause})` : ""}`];
		parts.push(`[HTTP ${error.status}, ${error.request}]`);
		if (error.hint) parts.push(`— ${error.hint}`);
		if (error instanceof WorkflowInFlightError) parts.unshift("workflow is in flight:");
		return oneLine(parts.join(" "));
	}
	if (error instanceof EngineUnreachableError) {
		return oneLine(`${error.message}; is the engine running? (npm start, or set RIVET_ENDPOINT)`);
	}
	if (error instanceof ActorNotFoundError) return oneLine(`${error.message}; list actors with: inspect actors`);
	if (error instanceof DebugError) return oneLine(error.message);
	return oneLine(error instanceof Error ? `unexpected error: ${error.stack ?? error.message}` : String(error));
}

/**
 * Engine internal errors carry a Rust error chain with a backtrace in
 * `metadata.error`; its last "Caused by" line is the useful part (e.g. an SQL
 * syntax error).
 */
function rootCause(metadata: unknown): string | undefined {
	if (typeof metadata !== "object" || metadata === null) return undefined;
	const chain = (metadata as { error?: unknown }).error;
	if (typeof chain !== "string") return undefined;
	const beforeBacktrace = chain.split("Stack backtrace:")[0] ?? chain;
	const lines = beforeBacktrace
		.split("\n")
		.map((l) => l.trim())
		.filter((l) => l !== "" && l !== "Caused by:");
	return lines.at(-1);
}

function oneLine(text: string): string {
	return text.replace(/\s*\n\s*/g, " ").trim();
}
