// Interrupting `npm run bench` while it starts and while it measures leaves
// no process behind. The bench measures the example actors, so this file goes
// with them (the README's removal block deletes it with tools/bench/).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, it } from "vitest";
import { freeEnginePort, freePort } from "../../../tools/local/ports.ts";
import { INTERRUPT_TEST_TIMEOUT_MS, interruptAtPhase, runCommand } from "../local/interrupt-support.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "actor-fleet-bench-interrupt-"));

afterAll(() => {
	rmSync(scratch, { recursive: true, force: true });
});

describe("npm run bench", () => {
	it.each([
		["while the engine and servers start", "starting engine, app server"],
		["while it measures", "] started"],
	])(
		"interrupted %s (SIGTERM to the top process) leaves nothing running",
		async (_, phase) => {
			const run = runCommand("npm", ["run", "bench", "--", "--quick"], {
				FLEET_DATA_DIR: mkdtempSync(path.join(scratch, "run-")),
				RIVET_ENDPOINT: `http://127.0.0.1:${await freeEnginePort()}`,
				PORT: String(await freePort()),
			});
			await interruptAtPhase(run, phase, "SIGTERM to the top process");
		},
		INTERRUPT_TEST_TIMEOUT_MS,
	);
});
