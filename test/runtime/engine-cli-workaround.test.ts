// The resolve hook runs in a child process: registered here it would change
// resolution for the rest of this test worker.

import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Runs an ES module snippet with the project's node in the project root; returns its stdout. */
function run(source: string): string {
	return execFileSync(process.execPath, ["--input-type=module", "-e", source], { cwd: ROOT, encoding: "utf8" }).trim();
}

const PROBE = `
const outcome = (p) => p.then(() => "resolved", (e) => e.code);
console.log(await outcome(import("@rivetkit/engine-cli")), await outcome(import("@rivetkit/engine-cli/package.json", { with: { type: "json" } })), await outcome(import("rivetkit")));
`;

test("without the workaround, @rivetkit/engine-cli resolves (what makes rivetkit 2.3.19 hand the wasm core an engine binary)", () => {
	expect(run(PROBE)).toBe("resolved resolved resolved");
});

test("hideEngineCli makes only @rivetkit/engine-cli unresolvable in its process", () => {
	const out = run(
		`import { hideEngineCli } from "./src/runtime-engine-cli-workaround.ts"; hideEngineCli(); hideEngineCli();${PROBE}`,
	);
	expect(out).toBe("ERR_MODULE_NOT_FOUND ERR_MODULE_NOT_FOUND resolved");
});
