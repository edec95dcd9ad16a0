// `npm run build`: fixes the runner version for this build and writes
// `dist/build-info.json`, which the server reads at boot.
//
// Version, first found wins (each grows from deploy to deploy): the variables
// below, a CI run number, the commit count, the build's timestamp in seconds.

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BUILD_INFO_FILE, type BuildInfo } from "../src/build-info.ts";

const VERSION_VARIABLES = [
	"RIVET_RUNNER_VERSION",
	"RIVET_ENVOY_VERSION",
	"GITHUB_RUN_NUMBER",
	"CI_PIPELINE_IID",
	"BUILD_NUMBER",
];

function git(...args: string[]): string | null {
	try {
		return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
	} catch {
		return null;
	}
}

function resolveVersion(): { runnerVersion: number; source: string } {
	for (const name of VERSION_VARIABLES) {
		const raw = process.env[name];
		if (raw === undefined || raw === "") continue;
		const value = Number(raw);
		if (!Number.isInteger(value) || value <= 0) {
			throw new Error(`${name}=${raw} is not a positive integer`);
		}
		return { runnerVersion: value, source: name };
	}
	const count = Number(git("rev-list", "--count", "HEAD"));
	if (Number.isInteger(count) && count > 0) return { runnerVersion: count, source: "git" };
	return { runnerVersion: Math.floor(Date.now() / 1_000), source: "timestamp" };
}

const info: BuildInfo = {
	...resolveVersion(),
	commit: git("rev-parse", "HEAD"),
	builtAt: new Date().toISOString(),
};
mkdirSync(path.dirname(BUILD_INFO_FILE), { recursive: true });
writeFileSync(BUILD_INFO_FILE, `${JSON.stringify(info, null, 2)}\n`);
console.log(`build: runner version ${info.runnerVersion} (from ${info.source}) → dist/build-info.json`);
