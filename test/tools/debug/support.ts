// Helpers for the debug-client tests: the fixture stack's engine (see
// test/setup/global.ts) as an `EngineConfig`, fresh fixture actors, and the
// CLI run in-process with captured output.

import { runCli } from "../../../tools/debug/cli/main.ts";
import { type EngineConfig, resolveEngineConfig } from "../../../tools/debug/config.ts";
import { getOrCreateActor } from "../../../tools/debug/management.ts";
import { fixtureEngineUrl, fixturePool, uniqueKey } from "../../support.ts";

/** The fixture engine and pool, as the CLI would resolve them from the environment. */
export function testEngine(): EngineConfig {
	return resolveEngineConfig(cliEnv());
}

/** The environment `inspect` runs with in these tests. */
export function cliEnv(): Record<string, string> {
	return { RIVET_ENDPOINT: fixtureEngineUrl(), RIVET_POOL: fixturePool() };
}

/** A new actor of `name` with a unique key; returns its id and key. */
export async function freshActor(name: string, prefix = name): Promise<{ id: string; key: string }> {
	const key = uniqueKey(prefix);
	const { actor } = await getOrCreateActor(testEngine(), { name, key });
	return { id: actor.actor_id, key };
}

export interface CliRun {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs `inspect <argv>` in this process against the fixture engine. */
export async function inspect(...argv: string[]): Promise<CliRun> {
	let stdout = "";
	let stderr = "";
	const code = await runCli(argv, {
		stdout: (text) => {
			stdout += text;
		},
		stderr: (text) => {
			stderr += text;
		},
		env: cliEnv(),
	});
	return { code, stdout, stderr };
}

/** `inspect <argv>`'s stdout; fails the test with stderr when the command fails. */
export async function inspectOut(...argv: string[]): Promise<string> {
	const run = await inspect(...argv);
	if (run.code !== 0) throw new Error(`inspect ${argv.join(" ")} exited ${run.code}: ${run.stderr}`);
	return run.stdout;
}

/** `inspect ... --json`, parsed; fails the test with stderr when the command fails. */
export async function inspectJson(...argv: string[]): Promise<unknown> {
	return JSON.parse(await inspectOut(...argv, "--json"));
}
