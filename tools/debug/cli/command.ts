// What a CLI command is, and the helpers every command shares: picking the
// actor (`<name> <key>` or `--id`), parsing JSON arguments, printing.

import type { EngineConfig } from "../config.ts";
import { ActorInspector } from "../inspector.ts";
import { type ActorKeyInput, assertActorId } from "../keys.ts";
import { resolveActorId } from "../management.ts";
import { type CliIo, printJson, UsageError } from "./output.ts";

/** Every option any command takes; each command lists the ones it accepts. */
export interface CliOptions {
	endpoint?: string | undefined;
	namespace?: string | undefined;
	token?: string | undefined;
	pool?: string | undefined;
	json?: boolean | undefined;
	help?: boolean | undefined;
	id?: string[] | undefined;
	"inspector-token"?: string | undefined;
	name?: string | undefined;
	key?: string | undefined;
	limit?: string | undefined;
	cursor?: string | undefined;
	offset?: string | undefined;
	"include-destroyed"?: boolean | undefined;
	all?: boolean | undefined;
	from?: string | undefined;
	properties?: string | undefined;
	params?: string | undefined;
	wait?: boolean | undefined;
	timeout?: string | undefined;
	method?: string | undefined;
	body?: string | undefined;
	header?: string[] | undefined;
}

export type OptionName = keyof CliOptions;

export interface CommandContext {
	io: CliIo;
	engine: EngineConfig;
	options: CliOptions;
	/** Positional arguments after the command words. */
	args: string[];
}

export interface Command {
	/** The words that select it, e.g. `["state", "get"]`. */
	words: readonly string[];
	/** Arguments after the words, for `--help`, e.g. `<actor> <json>`. */
	usage: string;
	summary: string;
	/** Options beyond the global ones (endpoint, namespace, token, pool, json, help). */
	options: readonly OptionName[];
	/** Longer help: examples, caveats. */
	details?: string;
	run(ctx: CommandContext): Promise<void>;
}

/** Options for commands that act on one actor. */
export const ACTOR_OPTIONS: readonly OptionName[] = ["id"];
export const INSPECTOR_OPTIONS: readonly OptionName[] = ["id", "inspector-token"];

/** Prints `json` with `--json`, otherwise the human rendering. */
export function output(ctx: CommandContext, json: unknown, human: () => string): void {
	if (ctx.options.json) printJson(ctx.io, json);
	else ctx.io.stdout(`${human()}\n`);
}

/**
 * A key argument: a plain string is a one-part key; `["a","b"]` (JSON) is a
 * compound rivetkit key.
 */
export function parseKeyArg(raw: string): ActorKeyInput {
	if (!raw.startsWith("[")) return raw;
	let parsed: unknown;
	try {
		parsed = JSON.parse(raw);
	} catch {
		throw new UsageError(`a key starting with "[" must be a JSON array of strings, got ${raw}`);
	}
	if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string")) {
		throw new UsageError(`a key starting with "[" must be a JSON array of strings, got ${raw}`);
	}
	return parsed;
}

/**
 * The actor a command targets and the arguments left after it: with `--id`
 * every positional is the command's own; otherwise the first two are the
 * actor's name and key, looked up (never created) through the management API.
 */
export async function takeActor(ctx: CommandContext): Promise<{ actorId: string; rest: string[] }> {
	const ids = ctx.options.id ?? [];
	if (ids.length > 1) throw new UsageError("give one --id");
	const [id] = ids;
	if (id !== undefined) return { actorId: assertActorId(id), rest: ctx.args };
	const [name, key, ...rest] = ctx.args;
	if (name === undefined || key === undefined) throw new UsageError("name the actor: <name> <key>, or --id ID");
	return { actorId: await resolveActorId(ctx.engine, name, parseKeyArg(key)), rest };
}

export async function takeInspector(ctx: CommandContext): Promise<{ inspector: ActorInspector; rest: string[] }> {
	const { actorId, rest } = await takeActor(ctx);
	return { inspector: new ActorInspector(ctx.engine, actorId, { token: ctx.options["inspector-token"] }), rest };
}

/**
 * A command-line value as JSON when it parses (`5`, `true`, `{"a":1}`,
 * `"5"`), otherwise as the string itself (`hello`).
 */
export function parseLooseJson(raw: string): unknown {
	try {
		return JSON.parse(raw);
	} catch {
		return raw;
	}
}

/** A value that must be JSON (state, params, properties). */
export function parseStrictJson(raw: string, what: string): unknown {
	try {
		return JSON.parse(raw);
	} catch {
		throw new UsageError(`${what} must be JSON, got ${raw}`);
	}
}

export function parseJsonObject(raw: string, what: string): Record<string, unknown> {
	const value = parseStrictJson(raw, what);
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		throw new UsageError(`${what} must be a JSON object, got ${raw}`);
	}
	return value as Record<string, unknown>;
}

export function parseCount(raw: string | undefined, what: string): number | undefined {
	if (raw === undefined) return undefined;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be a whole number, got ${raw}`);
	return n;
}

/** `Name: value` header flags for health checks and forwarded requests. */
export function parseHeaders(raw: readonly string[] | undefined): Record<string, string> {
	const headers: Record<string, string> = {};
	for (const entry of raw ?? []) {
		const at = entry.indexOf(":");
		if (at <= 0) throw new UsageError(`--header must look like "name: value", got ${entry}`);
		headers[entry.slice(0, at).trim().toLowerCase()] = entry.slice(at + 1).trim();
	}
	return headers;
}

export function expectArgs(args: readonly string[], count: { min: number; max: number }, usage: string): void {
	if (args.length < count.min || args.length > count.max) throw new UsageError(`usage: inspect ${usage}`);
}
