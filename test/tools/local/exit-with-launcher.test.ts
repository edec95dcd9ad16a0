// A server a launcher started stops by itself when the launcher dies with
// SIGKILL (tools/local/exit-with-launcher.ts, preloaded by app-server.ts).

import { spawn } from "node:child_process";
import { expect, onTestFinished, test } from "vitest";
import { EXIT_WITH_LAUNCHER, SERVER_ENTRY } from "../../../tools/local/app-server.ts";
import { LAUNCHER_PID_VARIABLE } from "../../../tools/local/exit-with-launcher.ts";
import { freePort } from "../../../tools/local/ports.ts";
import { engineUrl } from "../../support.ts";

test("a server whose launcher dies with SIGKILL stops by itself", async () => {
	const port = await freePort();
	const answers = () =>
		fetch(`http://127.0.0.1:${port}/health`).then(
			() => true,
			() => false,
		);
	// A throwaway launcher: starts a server the way app-server.ts does (the preload, its pid), then idles.
	const launcherCode = `
		const { spawn } = require("node:child_process");
		spawn(process.execPath, [${JSON.stringify(`--import=${EXIT_WITH_LAUNCHER}`)}, ${JSON.stringify(SERVER_ENTRY)}], {
			stdio: "ignore",
			env: { ...process.env, PORT: "${port}", ${LAUNCHER_PID_VARIABLE}: String(process.pid) },
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
