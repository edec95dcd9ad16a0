// Interrupting `npm run cluster` at each phase of its start leaves no
// process behind (PostgreSQL, NATS, engine nodes, nginx, app servers),
// whichever way the signal arrives. The same test for `npm start`, `npm run
// dev`, `npm run bench` and a test run is test/tools/local/interrupt.test.ts.

import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, it } from "vitest";
import { type Interruption, interruptAtPhase, runCommand } from "../tools/local/interrupt-support.ts";

/** PostgreSQL's first start (initdb) and two engine nodes take a while on two cores. */
const PHASE_TIMEOUT_MS = 120_000;
/** App servers drain, engines stop, PostgreSQL checkpoints. */
const STOP_TIMEOUT_MS = 90_000;

// PostgreSQL runs as its own user, which must be able to reach its data dir
// inside these folders (mkdtemp makes them 0700).
const scratch = mkdtempSync(path.join(tmpdir(), "actor-fleet-cluster-interrupt-"));
chmodSync(scratch, 0o755);
function runDir(): string {
	const dir = mkdtempSync(path.join(scratch, "run-"));
	chmodSync(dir, 0o755);
	return dir;
}
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm run cluster", () => {
	it.each<[string, Interruption]>([
		["• starting PostgreSQL", "SIGINT to the group"],
		["• starting engine node b", "SIGTERM to the top process"],
		["• starting app server a", "SIGINT to the group"],
		["actor-fleet cluster is up", "SIGTERM to the top process"],
	])(
		'interrupted at "%s" (%s) leaves nothing running',
		async (phase, how) => {
			const run = runCommand("npm", ["run", "cluster"], { FLEET_DATA_DIR: runDir() });
			await interruptAtPhase(run, phase, how, { phaseMs: PHASE_TIMEOUT_MS, stopMs: STOP_TIMEOUT_MS });
			// A phase, the stop, and the check for leftovers.
		},
		PHASE_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000,
	);
});
