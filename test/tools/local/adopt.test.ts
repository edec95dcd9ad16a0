// When `npm start` adopts an engine that already answers (tools/local/adopt.ts),
// on real engines; and end to end, `npm run dev` against one that answers once
// and dies stops with what to do and leaves nothing running.

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decideAdoption, STEADY_HEALTH_CHECKS } from "../../../tools/local/adopt.ts";
import { enginePidFile, startEngine } from "../../../tools/local/engine.ts";
import { freeEnginePort, freePort } from "../../../tools/local/ports.ts";
import { INTERRUPT_TEST_TIMEOUT_MS, killGroup, processesOfRun, runCommand } from "./interrupt-support.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "actor-fleet-adopt-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A data dir that is not the engine's own, so its pid file names nothing. */
const otherPidFile = () => enginePidFile(mkdtempSync(path.join(scratch, "other-")));

describe("adopting an engine that already answers", () => {
	it("adopts a steady engine and names its pid and data dir; replaces the one its own data dir records", async () => {
		const dataDir = path.join(scratch, "steady");
		const engine = await startEngine({ port: await freeEnginePort(), dataDir });
		try {
			const adoption = await decideAdoption(engine.url, { ownPidFile: otherPidFile() });
			expect(adoption).toEqual({ verdict: "adopt", pid: engine.pid, dataDir: path.join(dataDir, "db") });
			// The launcher's own leftover (a launcher killed before it could stop it) is replaced, not adopted.
			const own = await decideAdoption(engine.url, { ownPidFile: enginePidFile(dataDir) });
			expect(own).toEqual({ verdict: "replace-own-leftover", pid: engine.pid });
		} finally {
			await engine.stop();
		}
	});

	it("refuses an engine that stops answering while it is probed, and says what to do", async () => {
		const engine = await startEngine({ port: await freeEnginePort(), dataDir: path.join(scratch, "stopping") });
		try {
			const adoption = await decideAdoption(engine.url, {
				ownPidFile: otherPidFile(),
				// Stopped after the first answer, as a previous run's engine shuts down.
				onCheck: async (answered, index) => {
					if (answered && index === 0) await engine.stop();
				},
			});
			expect(adoption.verdict).toBe("refuse");
			if (adoption.verdict !== "refuse") return;
			expect(adoption.reason).toContain(`only 1 of ${STEADY_HEALTH_CHECKS} health checks`);
			expect(adoption.reason).toContain("run `npm start` again");
		} finally {
			await engine.stop();
		}
	});

	it("reports no engine when nothing answers", async () => {
		const url = `http://127.0.0.1:${await freeEnginePort()}`;
		expect(await decideAdoption(url, { ownPidFile: otherPidFile() })).toEqual({ verdict: "none" });
	});
});

describe("npm run dev against an engine that is not steady", () => {
	it(
		"stops with the reason and what to do, and leaves nothing running",
		async () => {
			// Answers one health check like an engine, then is gone.
			let answered = 0;
			const port = await freeEnginePort();
			const fake = createServer((_req, res) => {
				answered++;
				res.writeHead(200, { "content-type": "application/json" });
				res.end(JSON.stringify({ runtime: "engine", status: "ok", version: "2.3.19" }));
				fake.close();
				fake.closeAllConnections();
			});
			await new Promise<void>((resolve) => fake.listen(port, "127.0.0.1", resolve));
			const run = runCommand("npm", ["run", "dev"], {
				FLEET_DATA_DIR: mkdtempSync(path.join(scratch, "dev-")),
				RIVET_ENDPOINT: `http://127.0.0.1:${port}`,
				PORT: String(await freePort()),
			});
			try {
				const code = await run.exited;
				expect(code, run.output()).toBe(1);
				expect(answered).toBe(1);
				expect(run.output()).toContain(`not adopting the engine: an engine answers on http://127.0.0.1:${port}`);
				expect(run.output()).toContain("Wait a few seconds and run `npm start` again");
				expect(run.output()).not.toContain("• starting the app server");
				await expect.poll(() => processesOfRun(run.marker), { timeout: 20_000 }).toEqual([]);
			} finally {
				killGroup(run);
				fake.close();
			}
		},
		INTERRUPT_TEST_TIMEOUT_MS,
	);
});
