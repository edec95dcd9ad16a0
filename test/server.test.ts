// Graceful stop: SIGTERM drains the actors before the process exits, so a
// write acknowledged just before the signal is there after a restart.

import { spawn } from "node:child_process";
import { expect, inject, onTestFinished, test } from "vitest";
import { signIn } from "../tools/client/auth.ts";
import { freePort } from "../tools/local/ports.ts";
import { startServerForPool } from "../tools/local/stack.ts";
import { appUrl, engineUrl, testClient, uniqueKey } from "./support.ts";

test("SIGTERM exits 0 and keeps a just-acknowledged write", async () => {
	// Its own pool, so only this test's server hosts these actors.
	const pool = uniqueKey("sigterm");
	const dataDir = inject("dataDir");
	const first = await startServerForPool(engineUrl(), { pool, dataDir });
	onTestFinished(() => first.stop().then(() => undefined));
	const client = testClient({ poolName: pool });
	const { params } = await signIn(appUrl(), "sigterm");
	const counter = client.counter.getOrCreate([uniqueKey("drain")], { params });
	expect(await counter.increment(7)).toBe(7);
	expect(await first.stop()).toBe(0);

	const second = await startServerForPool(engineUrl(), { pool, dataDir });
	onTestFinished(() => second.stop().then(() => undefined));
	expect(await counter.getCount()).toBe(7);
});

test("a server whose launcher dies with SIGKILL stops by itself", async () => {
	const port = await freePort();
	const answers = () =>
		fetch(`http://127.0.0.1:${port}/health`).then(
			() => true,
			() => false,
		);
	// A throwaway launcher: starts a server that watches it (FLEET_PARENT_PID), then idles.
	const launcherCode = `
		const { spawn } = require("node:child_process");
		spawn(process.execPath, ["src/server.ts"], {
			stdio: "ignore",
			env: { ...process.env, PORT: "${port}", FLEET_PARENT_PID: String(process.pid) },
		});
		setInterval(() => {}, 1000);`;
	const launcher = spawn(process.execPath, ["-e", launcherCode], {
		env: { ...process.env, RIVET_ENDPOINT: engineUrl() },
		stdio: "ignore",
	});
	onTestFinished(() => {
		launcher.kill("SIGKILL");
	});
	await expect.poll(answers).toBe(true);
	launcher.kill("SIGKILL");
	await expect.poll(answers).toBe(false);
});
