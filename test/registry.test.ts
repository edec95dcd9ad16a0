// Importing the registry has no side effects: a fresh `node` process imports
// `src/registry.ts` and reports its environment before and after.

import { execFile } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";

const PROJECT_ROOT = path.resolve(import.meta.dirname, "..");
const REGISTRY_URL = pathToFileURL(path.join(PROJECT_ROOT, "src", "registry.ts")).href;

/** Runs in the child: snapshot, import, snapshot, print both as one JSON line. */
const PROBE = `
const before = { ...process.env };
const { registry } = await import(${JSON.stringify(REGISTRY_URL)});
const after = { ...process.env };
console.log(JSON.stringify({ before, after, hasRegistry: typeof registry === "object" && registry !== null }));
`;

interface ProbeResult {
	code: number | null;
	report: { before: Record<string, string>; after: Record<string, string>; hasRegistry: boolean } | undefined;
	stderr: string;
}

/** Imports the registry in a new `node` process whose environment is exactly `env`. */
function importInCleanProcess(env: Record<string, string>): Promise<ProbeResult> {
	return new Promise((resolve, reject) => {
		const child = execFile(
			process.execPath,
			["--input-type=module", "--eval", PROBE],
			{ cwd: PROJECT_ROOT, env, timeout: 30_000 },
			(error, stdout, stderr) => {
				if (error && typeof error.code !== "number") return reject(error);
				const line = stdout.trim().split("\n").at(-1) ?? "";
				resolve({ code: child.exitCode, report: line.startsWith("{") ? JSON.parse(line) : undefined, stderr });
			},
		);
	});
}

const BASE_ENV = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };

describe("importing src/registry.ts", () => {
	test("leaves process.env unchanged, reads nothing from it (not even settings the server would refuse) and exits normally", async () => {
		// The server exits at boot on each hostile setting (test/app.test.ts); the registry must not even look.
		const hostile = { NODE_ENV: "production", PORT: "not-a-port", RIVET_ENDPOINT: "not a url", CHAT_TOKEN: " " };
		for (const env of [BASE_ENV, { ...BASE_ENV, ...hostile, ALLOWED_ORIGINS: "" }]) {
			const result = await importInCleanProcess(env);
			expect(result.stderr).toBe("");
			expect(result.code).toBe(0);
			expect(result.report?.hasRegistry).toBe(true);
			expect(result.report?.before).toEqual(env);
			expect(result.report?.after).toEqual(env);
		}
	});
});
