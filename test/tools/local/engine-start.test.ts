// A daemon that cannot start quotes its own log lines in the error; and port
// reservations (tools/local/ports.ts) are held by a live socket.

import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StartError } from "../../../tools/local/daemon.ts";
import { startEngine } from "../../../tools/local/engine.ts";
import { processesMentioning } from "../../../tools/local/hygiene.ts";
import { freeEnginePort } from "../../../tools/local/ports.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "actor-fleet-engine-start-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("an engine whose port is taken", () => {
	it("fails with the engine's own 'address in use' line, and nothing is left running", async () => {
		const port = await freeEnginePort();
		// A program outside this repo holds the engine's guard port.
		const squatter = net.createServer((socket) => socket.destroy());
		await new Promise<void>((resolve) => squatter.listen({ port, host: "127.0.0.1" }, resolve));
		const dataDir = path.join(scratch, "taken");
		try {
			const error = await startEngine({ port, dataDir }).then(
				() => new Error("the engine started on a taken port"),
				(e: unknown) => e,
			);
			expect(error).toBeInstanceOf(StartError);
			const failure = error as StartError;
			expect(failure.addressInUse).toBe(true);
			expect(failure.message).toMatch(/its log \(.*engine\.log\) ends with:\n/);
			expect(failure.logLines.join("\n")).toMatch(/address (already )?in use|os error 98/i);
		} finally {
			await new Promise((resolve) => squatter.close(resolve));
		}
		// The failed engine was killed and reaped; nothing names its data dir.
		expect(processesMentioning(dataDir)).toEqual([]);
	});
});

describe("port reservations", () => {
	it("are held by this process: another process cannot reserve the same engine slot", async () => {
		const port = await freeEnginePort();
		// The slot's sentinel (P+2) is bound while this process lives.
		const probe = net.createServer();
		const bound = await new Promise<boolean>((resolve) => {
			probe.once("error", () => resolve(false));
			probe.listen({ port: port + 2, host: "127.0.0.1", exclusive: true }, () => resolve(true));
		});
		if (bound) await new Promise((resolve) => probe.close(resolve));
		expect(bound).toBe(false);
	});
});
