// The Hono app in-process (`app.request()`), plus the real server process for
// what only a process can show: start-up checks and signals.

import net from "node:net";
import { beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../src/app.ts";
import { registry } from "../src/registry.ts";
import { startAppServer } from "../tools/local/app-server.ts";
import { freePort } from "../tools/local/ports.ts";
import { FIXTURE_SERVER_ENTRY } from "./fixtures/entry.ts";
import { engineUrl, namedFields, runUntilExit } from "./support.ts";

let app: ReturnType<typeof createApp>;

beforeAll(() => {
	// env.ts reads process.env once, when the first app is created.
	process.env.RIVET_ENDPOINT = engineUrl();
	app = createApp(registry);
});

describe("routes", () => {
	test("GET /health reports the app and a reachable engine, without naming the engine or the pool", async () => {
		const res = await app.request("/health");
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(JSON.parse(text)).toMatchObject({ status: "ok", app: { status: "ok" }, engine: { status: "ok" } });
		// Anyone can read /health; where the engine is and which pool this is stay private.
		expect(text).not.toContain(new URL(engineUrl()).host);
		expect(text).not.toMatch(/endpoint|pool/);
	});

	test("GET /api/ping, the liveness probe, answers without asking the engine (and 200 when none answers: below)", async () => {
		expect(await (await app.request("/api/ping")).json()).toEqual({ ok: true });
	});

	// Unknown API routes (a JSON 404) and /api/rivet/* (the registry) are
	// checked with the web app's files in place, which must not shadow them
	// (test/web/serving.test.ts, "API routes keep their JSON answers").
});

describe("the server process", () => {
	test("/health is 503 when the engine does not answer; /api/ping, the liveness probe, is still 200", async () => {
		const deadEngine = `http://127.0.0.1:${await freePort()}`;
		const server = await startAppServer({ port: await freePort(), env: { RIVET_ENDPOINT: deadEngine } });
		try {
			const res = await fetch(`${server.url}/health`);
			expect(res.status).toBe(503);
			expect(await res.json()).toMatchObject({ status: "degraded", engine: { status: "unreachable" } });
			expect((await fetch(`${server.url}/api/ping`)).status).toBe(200);
		} finally {
			await server.stop();
		}
	});

	test("bad settings, the server's and the actors' (though actors read theirs on first use), stop the process at boot with one line per bad field", async () => {
		// The fixture server boots through the same code (src/serve.ts) with
		// the fixture actors' settings; the product checks its own the same way.
		const cases: Array<[Record<string, string>, string, string[]]> = [
			[
				{ PORT: "not-a-port", RIVET_ENDPOINT: "ftp://x", RIVET_LOG_LEVEL: "loud" },
				"src/server.ts",
				["PORT", "RIVET_ENDPOINT", "RIVET_LOG_LEVEL"],
			],
			[
				{ PORT: String(await freePort()), RIVET_ENDPOINT: engineUrl(), TALLY_MAX_PENDING_TIMERS: "lots" },
				FIXTURE_SERVER_ENTRY,
				["TALLY_MAX_PENDING_TIMERS"],
			],
		];
		for (const [env, entry, fields] of cases) {
			const { code, stderr } = await runUntilExit(env, entry);
			expect(code).toBe(1);
			expect(stderr).toContain("invalid environment");
			expect(namedFields(stderr.split("\n").filter((l) => l.startsWith("  ")))).toEqual(fields);
		}
	});

	test("a port already in use gives a one-line error", async () => {
		const blocker = net.createServer();
		const port = await freePort();
		await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
		try {
			const { code, stderr } = await runUntilExit({ PORT: String(port), RIVET_ENDPOINT: engineUrl() });
			expect(code).toBe(1);
			expect(stderr.trim()).toBe(`actor-fleet: port ${port} on 127.0.0.1 is already in use; set PORT to a free port`);
		} finally {
			blocker.close();
		}
	});
});
