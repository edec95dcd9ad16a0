// Interrupting `npm run cluster` at each phase of its start leaves no
// process behind (PostgreSQL, NATS, engine nodes, nginx, app servers),
// whichever way the signal arrives. The same test for `npm start`, `npm run
// dev`, `npm run bench` and a test run is test/tools/local/interrupt.test.ts.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
	type Interruption,
	interrupt,
	killGroup,
	processesOfRun,
	runCommand,
	waitForOutput,
} from "../tools/local/interrupt-support.ts";

/** PostgreSQL's first start (initdb) and two engine nodes take a while on two cores. */
const PHASE_TIMEOUT_MS = 120_000;
/** App servers drain, engines stop, PostgreSQL checkpoints. */
const STOP_TIMEOUT_MS = 90_000;

const scratch = mkdtempSync(path.join(tmpdir(), "actor-fleet-cluster-interrupt-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm run cluster", () => {
	it.each<[string, Interruption]>([
		["• starting PostgreSQL", "SIGINT to the group"],
		["• starting engine node b", "SIGTERM to the top process"],
		["• starting app server a", "SIGINT to the group"],
		["actor-fleet cluster is up", "SIGTERM to the top process"],
	])('interrupted at "%s" (%s) leaves nothing running', async (phase, how) => {
		const run = runCommand("npm", ["run", "cluster"], { FLEET_DATA_DIR: mkdtempSync(path.join(scratch, "run-")) });
		try {
			await waitForOutput(run, phase, PHASE_TIMEOUT_MS);
			interrupt(run, how);
			const code = await Promise.race([
				run.exited,
				new Promise<string>((r) => setTimeout(() => r("still running"), STOP_TIMEOUT_MS)),
			]);
			expect(code, run.output()).not.toBe("still running");
			await expect.poll(() => processesOfRun(run.marker), { timeout: 20_000 }).toEqual([]);
		} finally {
			killGroup(run);
		}
	});
});
