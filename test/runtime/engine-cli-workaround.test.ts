// The resolve hook runs in child processes: registered here it would change
// resolution for the rest of this test worker.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { freePort } from "../../tools/local/ports.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Runs an ES module snippet with the project's node in the project root; returns its stdout. */
function run(source: string): string {
	return execFileSync(process.execPath, ["--input-type=module", "-e", source], { cwd: ROOT, encoding: "utf8" }).trim();
}

const PROBE = `
const outcome = (p) => p.then(() => "resolved", (e) => e.code);
console.log(await outcome(import("@rivetkit/engine-cli")), await outcome(import("@rivetkit/engine-cli/package.json", { with: { type: "json" } })), await outcome(import("rivetkit")));
`;

test("without the workaround, @rivetkit/engine-cli resolves (what makes rivetkit 2.3.19 hand its core an engine binary)", () => {
	expect(run(PROBE)).toBe("resolved resolved resolved");
});

test("hideEngineCli makes only @rivetkit/engine-cli unresolvable in its process", () => {
	const out = run(
		`import { hideEngineCli } from "./src/workarounds/engine-cli.ts"; hideEngineCli(); hideEngineCli();${PROBE}`,
	);
	expect(out).toBe("ERR_MODULE_NOT_FOUND ERR_MODULE_NOT_FOUND resolved");
});

test("with no engine answering, the app server spawns none of its own (native runtime)", async () => {
	// A private HOME: rivetkit's core keeps a spawned engine's data and pid
	// under $HOME/.rivetkit, so its absence afterwards shows nothing was spawned.
	const home = mkdtempSync(path.join(tmpdir(), "fleet-spawn-"));
	try {
		const out = execFileSync(process.execPath, ["test/fixtures/engine-spawn-probe.ts"], {
			cwd: ROOT,
			encoding: "utf8",
			env: {
				...process.env,
				HOME: home,
				FLEET_RUNTIME: "native",
				RIVETKIT_RUNTIME: undefined,
				RIVET_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
			},
		});
		// rivetkit refuses (no engine binary to spawn) instead of starting one.
		expect(out).toContain("binary_unavailable");
		expect(existsSync(path.join(home, ".rivetkit"))).toBe(false);
	} finally {
		stopSpawnedEngine(home);
		rmSync(home, { recursive: true, force: true });
	}
});

/** If the check above fails, stops the engine rivetkit spawned (its pid is in runtime.json), so nothing outlives the test. */
function stopSpawnedEngine(home: string): void {
	const stamp = path.join(home, ".rivetkit", "var", "engine", "runtime.json");
	if (!existsSync(stamp)) return;
	const { pid } = JSON.parse(readFileSync(stamp, "utf8")) as { pid?: number };
	if (pid !== undefined) {
		try {
			process.kill(pid, "SIGKILL");
		} catch {
			// Already gone.
		}
	}
}
