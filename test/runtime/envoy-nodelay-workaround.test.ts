// src/workarounds/envoy-nodelay.ts: the native core's engine connection gets
// TCP_NODELAY, and none of Node's own sockets is touched. How much faster
// one-at-a-time calls get is not asserted here: tests never assert on time.
// lab:start (the README's lab removal block deletes these lines)
// The lab's bench measures it (docs/performance.md).
// lab:end

import net from "node:net";
import { expect, onTestFinished, test } from "vitest";
import { setNoDelayOnEngineSockets } from "../../src/workarounds/envoy-nodelay.ts";
import { fixtureClient, fixtureServerWith, uniqueKey } from "../support.ts";

const ADOPTED_LINE = /TCP_NODELAY set on (\d+) rivetkit engine connection/g;

test("a connection Node owns is never taken, and keeps carrying data", async () => {
	const server = net.createServer((socket) => socket.pipe(socket)).listen(0, "127.0.0.1");
	await new Promise((resolve) => server.once("listening", resolve));
	onTestFinished(() => void server.close());
	const port = (server.address() as net.AddressInfo).port;
	const client = net.connect(port, "127.0.0.1");
	onTestFinished(() => void client.destroy());
	await new Promise((resolve) => client.once("connect", resolve));

	expect(setNoDelayOnEngineSockets(port)).toBe(0);
	expect(setNoDelayOnEngineSockets(port)).toBe(0);
	const echoed = new Promise<string>((resolve) => client.once("data", (data) => resolve(data.toString())));
	client.write("still mine");
	expect(await echoed).toBe("still mine");
});

test("on the native runtime with FLEET_ENVOY_NODELAY=on, the app server sets TCP_NODELAY on its engine connection and its calls answer", async () => {
	const { pool, log } = await fixtureServerWith("nodelay", {
		FLEET_RUNTIME: "native",
		RIVETKIT_RUNTIME: undefined,
		FLEET_ENVOY_NODELAY: "on",
	});
	const tally = fixtureClient({ poolName: pool }).tally.getOrCreate([uniqueKey("nodelay")]);
	const conn = tally.connect();
	onTestFinished(() => conn.dispose());
	for (let i = 1; i <= 5; i++) expect(await conn.increment(1)).toBe(i);

	const adopted = () => [...log().matchAll(ADOPTED_LINE)].reduce((n, m) => n + Number(m[1]), 0);
	// The scan runs every 250 ms: the envoy's connection is found soon after it opens.
	await expect.poll(adopted, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
	expect(await conn.getCount()).toBe(5);
});
