// `npm run inspect -- <command>`: argument parsing, dispatch and help.
//
// One `util.parseArgs` call knows every option; the command words are the
// first positionals (`state get ...`), and each command says which options it
// takes beyond the global ones. Exit codes: 0 success, 1 the call failed
// (engine error, unknown actor, unreachable engine), 2 bad usage (caught
// before anything was sent). Failures print exactly one line on stderr.

import { parseArgs } from "node:util";
import { resolveEngineConfig } from "../config.ts";
import { DebugInputError } from "../errors.ts";
import type { CliOptions, Command, OptionName } from "./command.ts";
import { fleetCommands } from "./fleet-commands.ts";
import { gatewayCommands } from "./gateway-commands.ts";
import { inspectorCommands } from "./inspector-commands.ts";
import { type CliIo, describeError } from "./output.ts";
import { runnerCommands } from "./runner-commands.ts";

interface OptionSpec {
	type: "string" | "boolean";
	multiple?: boolean;
	short?: string;
	/** Placeholder shown in help, e.g. `URL`. */
	value?: string;
	help: string;
}

const OPTIONS: Record<OptionName, OptionSpec> = {
	endpoint: { type: "string", value: "URL", help: "the engine (RIVET_ENDPOINT; default http://127.0.0.1:6420)" },
	namespace: {
		type: "string",
		value: "NS",
		help: "engine namespace (RIVET_NAMESPACE; default from the endpoint, else default)",
	},
	token: { type: "string", value: "TOKEN", help: "engine token (RIVET_TOKEN; default from the endpoint)" },
	pool: {
		type: "string",
		value: "POOL",
		help: "runner pool for new actors, filter for runners/runner-configs (RIVET_POOL)",
	},
	json: { type: "boolean", help: "print JSON instead of tables" },
	help: { type: "boolean", short: "h", help: "show help (works on every command)" },
	id: { type: "string", multiple: true, value: "ID", help: "an actor id (repeat for several in `actors`)" },
	"inspector-token": {
		type: "string",
		value: "TOKEN",
		help: "use this inspector token instead of the actor's own from KV",
	},
	name: { type: "string", value: "NAME", help: "actor name" },
	key: { type: "string", value: "KEY", help: 'actor key; a JSON array for compound keys (["a","b"])' },
	limit: { type: "string", value: "N", help: "page size" },
	cursor: { type: "string", value: "C", help: "continue after a previous page" },
	offset: { type: "string", value: "N", help: "rows to skip" },
	"include-destroyed": { type: "boolean", help: "include destroyed actors" },
	all: { type: "boolean", help: "include rivetkit's internal _rivet_* tables" },
	from: { type: "string", value: "ENTRY", help: "replay from this workflow entry (id, path or unique name)" },
	properties: { type: "string", value: "JSON", help: "named arguments as a JSON object instead of positional ones" },
	params: { type: "string", value: "JSON", help: "connection params, as a client passes them" },
	wait: { type: "boolean", help: "wait for the actor to complete the message" },
	timeout: { type: "string", value: "MS", help: "how long --wait waits" },
	method: { type: "string", value: "METHOD", help: "HTTP method (default GET)" },
	body: { type: "string", value: "TEXT", help: "request body" },
	header: { type: "string", multiple: true, value: "'NAME: VALUE'", help: "extra header (repeatable)" },
};

const GLOBAL_OPTIONS: readonly OptionName[] = ["endpoint", "namespace", "token", "pool", "json", "help"];

const SECTIONS: ReadonlyArray<{ title: string; commands: readonly Command[] }> = [
	{ title: "Fleet (management API)", commands: fleetCommands },
	{ title: "Runners", commands: runnerCommands },
	{ title: "One actor's inspector (<actor> is <name> <key>, or --id ID)", commands: inspectorCommands },
	{ title: "One actor's public gateway routes", commands: gatewayCommands },
];

export const COMMANDS: readonly Command[] = SECTIONS.flatMap((s) => s.commands);

const GROUPS = new Set(COMMANDS.filter((c) => c.words.length > 1).map((c) => c.words[0]));

const parseArgsOptions = Object.fromEntries(
	Object.entries(OPTIONS).map(([name, spec]) => [
		name,
		{ type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) },
	]),
);

/** Runs the CLI and returns its exit code. `io` makes it testable in-process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
	let options: CliOptions;
	let positionals: string[];
	try {
		const parsed = parseArgs({ args: [...argv], options: parseArgsOptions, allowPositionals: true, strict: true });
		options = parsed.values as CliOptions;
		positionals = parsed.positionals;
	} catch (error) {
		io.stderr(`inspect: ${error instanceof Error ? error.message : String(error)} (see inspect --help)\n`);
		return 2;
	}

	const match = findCommand(positionals, options.help ?? false);
	if (!match) {
		const [first] = positionals;
		if (first === undefined || first === "help") {
			io.stdout(topHelp());
			return options.help || first === "help" ? 0 : 2;
		}
		if (GROUPS.has(first)) {
			if (options.help) {
				io.stdout(groupHelp(first));
				return 0;
			}
			io.stderr(
				`inspect: "${first}" needs a subcommand: ${subcommands(first).join(", ")} (see inspect ${first} --help)\n`,
			);
			return 2;
		}
		io.stderr(`inspect: unknown command "${first}" (see inspect --help)\n`);
		return 2;
	}
	const { command, consumed } = match;
	if (options.help) {
		io.stdout(commandHelp(command));
		return 0;
	}
	const misplaced = Object.keys(options).filter(
		(name) => !GLOBAL_OPTIONS.includes(name as OptionName) && !command.options.includes(name as OptionName),
	);
	if (misplaced.length > 0) {
		io.stderr(`inspect: ${command.words.join(" ")} does not take --${misplaced.join(", --")} (see --help)\n`);
		return 2;
	}

	try {
		const engine = resolveEngineConfig(io.env, {
			endpoint: options.endpoint,
			namespace: options.namespace,
			token: options.token,
			pool: options.pool,
		});
		await command.run({ io, engine, options, args: positionals.slice(consumed) });
		return 0;
	} catch (error) {
		io.stderr(`inspect: ${describeError(error)}\n`);
		// Rejected before anything was sent (bad arguments or combinations): a usage error.
		return error instanceof DebugInputError ? 2 : 1;
	}
}

/** The command named by the first positionals. `queue <actor>` means `queue status <actor>`. */
function findCommand(
	positionals: readonly string[],
	help: boolean,
): { command: Command; consumed: number } | undefined {
	const [first, second] = positionals;
	const two = COMMANDS.find((c) => c.words.length === 2 && c.words[0] === first && c.words[1] === second);
	if (two) return { command: two, consumed: 2 };
	const one = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
	if (one) return { command: one, consumed: 1 };
	const queueStatus = COMMANDS.find((c) => c.words.join(" ") === "queue status");
	// Plain `queue --help` shows the group's help instead.
	if (first === "queue" && !(help && second === undefined) && queueStatus) return { command: queueStatus, consumed: 1 };
	return undefined;
}

function subcommands(group: string): string[] {
	return COMMANDS.filter((c) => c.words[0] === group && c.words.length > 1).map((c) => c.words[1] ?? "");
}

function commandLine(command: Command): string {
	return `  ${command.words.join(" ").padEnd(18)} ${command.summary}`;
}

function optionLines(names: readonly OptionName[]): string[] {
	return names.map((name) => {
		const spec = OPTIONS[name];
		const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
		return `  ${flag.padEnd(30)} ${spec.help}`;
	});
}

function topHelp(): string {
	const lines = [
		"inspect: look inside a Rivet fleet: actors, runners, and each actor's state, queue, workflow and database",
		"",
		"usage: npm run -s inspect -- <command> [arguments] [options]",
	];
	for (const section of SECTIONS) lines.push("", `${section.title}:`, ...section.commands.map(commandLine));
	lines.push(
		"",
		"Global options:",
		...optionLines(GLOBAL_OPTIONS),
		"",
		"`inspect <command> --help` shows a command's arguments and options.",
		"",
	);
	return lines.join("\n");
}

function groupHelp(group: string): string {
	const commands = COMMANDS.filter((c) => c.words[0] === group);
	return [`usage: inspect ${group} <${subcommands(group).join("|")}> ...`, "", ...commands.map(commandLine), ""].join(
		"\n",
	);
}

function commandHelp(command: Command): string {
	const lines = [`usage: inspect ${command.words.join(" ")} ${command.usage}`.trimEnd(), "", command.summary];
	if (command.details) lines.push("", command.details);
	if (command.usage.includes("<actor>"))
		lines.push("", "<actor> is <name> <key> (looked up, never created), or --id ID.");
	if (command.options.length > 0) lines.push("", "Options:", ...optionLines(command.options));
	lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS), "");
	return lines.join("\n");
}
