// Interrupting `npm start`, `npm run dev` and a test run at each phase
// leaves no process behind, whichever way the signal arrives. (`npm run
// cluster` has the same test in test/cluster/, where PostgreSQL, NATS and
// nginx are at hand; `npm run bench` in test/tools/bench/.)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeEnginePort, freePort } from "../../../tools/local/ports.ts";
import { buildWebApp } from "../../../tools/local/web-build.ts";
import {
	INTERRUPT_TEST_TIMEOUT_MS,
	type Interruption,
	interrupt,
	interruptAtPhase,
	killGroup,
	PHASE_TIMEOUT_MS,
	processesOfRun,
	runCommand,
	waitForOutput,
} from "./interrupt-support.ts";

let scratch: string;
let builtWeb: string;

beforeAll(async () => {
	scratch = mkdtempSync(path.join(tmpdir(), "actor-fleet-interrupt-"));
	// One build that every run after the build phase finds current, so they skip it.
	builtWeb = path.join(scratch, "web-dist");
	await buildWebApp({ outDir: builtWeb, pool: "default", logFile: path.join(scratch, "web-build.log") });
}, 180_000);

afterAll(() => {
	rmSync(scratch, { recursive: true, force: true });
});

async function interruptAt(
	args: string[],
	phase: string,
	how: Interruption,
	env: Record<string, string> = {},
	command = "npm",
): Promise<string> {
	const dataDir = mkdtempSync(path.join(scratch, "run-"));
	const run = runCommand(command, args, {
		FLEET_DATA_DIR: dataDir,
		RIVET_ENDPOINT: `http://127.0.0.1:${await freeEnginePort()}`,
		PORT: String(await freePort()),
		WEB_DIST: builtWeb,
		...env,
	});
	return interruptAtPhase(run, phase, how);
}

const START_PHASES = [
	"• starting the Rivet Engine",
	"• starting the app server",
	"• writing the runner config",
	"actor-fleet is up",
];
const SIGNALS: Interruption[] = ["SIGINT to the group", "SIGTERM to the top process"];

describe("npm start", () => {
	it.each(SIGNALS)(
		"interrupted while building the web app (%s) leaves nothing running",
		async (how) => {
			const output = await interruptAt(["start"], "• building the web app", how, {
				WEB_DIST: mkdtempSync(path.join(scratch, "fresh-dist-")),
			});
			expect(output).toContain("• building the web app");
		},
		INTERRUPT_TEST_TIMEOUT_MS,
	);

	for (const phase of START_PHASES) {
		it.each(SIGNALS)(
			`interrupted at "${phase}" (%s) leaves nothing running`,
			async (how) => {
				const output = await interruptAt(["start"], phase, how);
				expect(output).toContain(phase);
			},
			INTERRUPT_TEST_TIMEOUT_MS,
		);
	}

	it(
		"adopts an engine that already answers, says so, and leaves it running",
		async () => {
			// A first `npm start` owns the engine; a second one on the same endpoint adopts it.
			const dataDir = mkdtempSync(path.join(scratch, "owner-"));
			const endpoint = `http://127.0.0.1:${await freeEnginePort()}`;
			const owner = runCommand("npm", ["start"], {
				FLEET_DATA_DIR: dataDir,
				RIVET_ENDPOINT: endpoint,
				PORT: String(await freePort()),
				WEB_DIST: builtWeb,
			});
			try {
				await waitForOutput(owner, "actor-fleet is up", PHASE_TIMEOUT_MS);
				const output = await interruptAt(["start"], "actor-fleet is up", "SIGINT to the group", {
					RIVET_ENDPOINT: endpoint,
					RIVET_POOL: "adopter",
				});
				expect(output).toContain(`• adopting the engine that already answers on ${endpoint}`);
				expect(output).toContain("adopted: started elsewhere, left running");
				// The adopted engine still serves its owner.
				const health = await fetch(`${endpoint}/health`);
				expect(health.status).toBe(200);
				interrupt(owner, "SIGINT to the group");
				await owner.exited;
				await expect.poll(() => processesOfRun(owner.marker), { timeout: 15_000 }).toEqual([]);
			} finally {
				killGroup(owner);
			}
			// Two starts and two stops.
		},
		2 * INTERRUPT_TEST_TIMEOUT_MS,
	);
});

describe("npm run dev", () => {
	it(
		"interrupted while Vite starts (SIGINT to the group) leaves nothing running",
		async () => {
			await interruptAt(["run", "dev"], "• starting the Vite dev server", "SIGINT to the group", {
				WEB_DEV_PORT: String(await freePort()),
			});
		},
		INTERRUPT_TEST_TIMEOUT_MS,
	);

	it(
		"stopped with SIGTERM after the banner leaves nothing running",
		async () => {
			await interruptAt(["run", "dev"], "actor-fleet is up", "SIGTERM to the top process", {
				WEB_DEV_PORT: String(await freePort()),
			});
		},
		INTERRUPT_TEST_TIMEOUT_MS,
	);
});

describe("a test run", () => {
	// A vitest run of its own whose global setup starts the main suite's stack
	// (an engine and an app server) and whose one test waits until interrupted.
	const FIXTURE = ["vitest", "run", "--config", "test/fixtures/interrupt/vitest.config.ts"];

	it.each(SIGNALS)(
		"interrupted with its stack up (%s) leaves nothing running",
		async (how) => {
			await interruptAt(FIXTURE, "fixture: the stack is up", how, {}, "npx");
		},
		INTERRUPT_TEST_TIMEOUT_MS,
	);
});
