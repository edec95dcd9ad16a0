// Graceful stop: SIGTERM drains the actors before the process exits, so a
// write acknowledged just before the signal is there after a restart.

import { expect, inject, onTestFinished, test } from "vitest";
import { ENGINE_START_PATH, refuseStartsWhileStopping } from "../src/workarounds/refuse-starts-while-stopping.ts";
import { startServerForPool } from "../tools/local/stack.ts";
import { FIXTURE_SERVER_ENTRY } from "./fixtures/entry.ts";
import { fixtureClient, fixtureEngineUrl, uniqueKey } from "./support.ts";

test("SIGTERM exits 0 and keeps a just-acknowledged write", async () => {
	// The fixture server stops through the same code as src/server.ts
	// (src/serve.ts), and its tally saves a write before acknowledging it,
	// as product actors do. Its own pool, so only this test's server hosts it.
	const pool = uniqueKey("sigterm");
	const options = { pool, dataDir: inject("fixtureDataDir"), entry: FIXTURE_SERVER_ENTRY };
	const first = await startServerForPool(fixtureEngineUrl(), options);
	onTestFinished(() => first.stop().then(() => undefined));
	const tally = fixtureClient({ poolName: pool }).tally.getOrCreate([uniqueKey("drain")]);
	expect(await tally.increment(7)).toBe(7);
	expect(await first.stop()).toBe(0);

	const second = await startServerForPool(fixtureEngineUrl(), options);
	onTestFinished(() => second.stop().then(() => undefined));
	expect(await tally.getCount()).toBe(7);
});

test("a stopping server answers the engine's start requests with 503 and serves everything else", async () => {
	let stopping = false;
	const fetch = refuseStartsWhileStopping(
		() => new Response("app"),
		() => stopping,
	);
	const start = () => fetch(new Request(`http://127.0.0.1${ENGINE_START_PATH}`, { method: "POST" }));
	expect(await (await start()).text()).toBe("app");
	stopping = true;
	const refused = await start();
	expect(refused.status).toBe(503);
	expect(await refused.json()).toMatchObject({ group: "guard", code: "service_unavailable" });
	expect(await (await fetch(new Request("http://127.0.0.1/health"))).text()).toBe("app");
	expect(await (await fetch(new Request("http://127.0.0.1/api/rivet/metadata"))).text()).toBe("app");
});
