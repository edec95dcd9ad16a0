// Graceful stop: SIGTERM drains the actors before the process exits, so a
// write acknowledged just before the signal is there after a restart.

import { expect, inject, onTestFinished, test } from "vitest";
import { startServerForPool } from "../src/local/stack.ts";
import { engineUrl, testClient, uniqueKey } from "./support.ts";

test("SIGTERM exits 0 and keeps a just-acknowledged write", async () => {
	// Its own pool, so only this test's server hosts these actors.
	const pool = uniqueKey("sigterm");
	const dataDir = inject("dataDir");
	const first = await startServerForPool(engineUrl(), { pool, dataDir });
	onTestFinished(() => first.stop().then(() => undefined));
	const client = testClient({ poolName: pool });
	const counter = client.counter.getOrCreate([uniqueKey("drain")]);
	expect(await counter.increment(7)).toBe(7);
	expect(await first.stop()).toBe(0);

	const second = await startServerForPool(engineUrl(), { pool, dataDir });
	onTestFinished(() => second.stop().then(() => undefined));
	expect(await counter.getCount()).toBe(7);
});
