// Runs only in the wasm parity run (the `wasm` project of vitest.config.ts): the app server
// the other files talk to really runs its actors on the wasm runtime.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, inject, test } from "vitest";
import { appUrl } from "../support.ts";

function serverLog(): string {
	const dir = inject("dataDir");
	const files = readdirSync(dir).filter((f) => f.startsWith("server-") && f.endsWith(".log"));
	return files.map((f) => readFileSync(path.join(dir, f), "utf8")).join("\n");
}

test("the app server says its actors run on the wasm runtime, and answers", async () => {
	expect(serverLog()).toContain("actors run on the wasm runtime (FLEET_RUNTIME)");
	const res = await fetch(`${appUrl()}/health`);
	expect(res.status).toBe(200);
});
