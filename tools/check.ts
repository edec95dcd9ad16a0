// `npm run check` (`npm test` first installs system packages): format and lint,
// typecheck, then each vitest project, one after another, stopping at the first
// failure. Not a `&&` chain: a SIGTERM to npm would leave the step in progress
// running as an orphan; here each step is a tracked child (tools/local/lifecycle.ts).

import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "./local/app-server.ts";
import { exitOnSignals, isShuttingDown, trackChild } from "./local/lifecycle.ts";

const { values: flags } = parseArgs({ options: { "system-deps": { type: "boolean", default: false } } });

const STEPS: Array<[string, string, string[]]> = [
	...(flags["system-deps"]
		? [["system packages", "bash", ["tools/system-deps.sh"]] as [string, string, string[]]]
		: []),
	["format and lint", "biome", ["check", "--error-on-warnings", "."]],
	["typecheck (server)", "tsc", ["-p", "tsconfig.json"]],
	["typecheck (web)", "tsc", ["-p", "web/tsconfig.json"]],
	["main suite", "vitest", ["run", "--project", "main"]],
	// lab:start (the README's lab removal block deletes these lines)
	// The actor tests again, against an app server on rivetkit's wasm runtime (src/runtime.ts).
	["wasm parity suite", "vitest", ["run", "--project", "wasm"]],
	// example-actors:start (the fault suite crashes the example actors)
	["fault suite", "vitest", ["run", "--project", "faults"]],
	// example-actors:end
	["cluster suite", "vitest", ["run", "--project", "cluster"]],
	// lab:end
	// example-actors:start (the README's removal block deletes these lines)
	// The README's removal blocks, each in a temporary copy followed by this whole command there.
	["removal suite", "vitest", ["run", "--project", "removal"]],
	// example-actors:end
];

exitOnSignals();

function run(name: string, command: string, args: string[]): Promise<number> {
	const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: "inherit" });
	const exited = new Promise<number>((resolve) => {
		child.once("error", () => resolve(127));
		child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
	});
	trackChild(name, child, exited);
	return exited;
}

const started = Date.now();
for (const [name, command, args] of STEPS) {
	const stepStarted = Date.now();
	console.log(`\n▶ ${name}: ${command} ${args.join(" ")}`);
	const code = await run(name, command, args);
	const seconds = ((Date.now() - stepStarted) / 1_000).toFixed(0);
	// Stopped by a signal: the lifecycle handler reports that and exits.
	if (isShuttingDown()) await new Promise(() => {});
	if (code !== 0) {
		console.error(`✗ ${name} failed (exit ${code}) after ${seconds} s`);
		process.exit(code);
	}
	console.log(`✓ ${name} (${seconds} s)`);
}
console.log(`\nall checks passed in ${((Date.now() - started) / 1_000).toFixed(0)} s`);
