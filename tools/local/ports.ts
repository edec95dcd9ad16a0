// Free loopback ports for tests, benchmarks and extra servers.

import net from "node:net";

function isFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const probe = net.createServer();
		probe.once("error", () => resolve(false));
		probe.listen({ port, host: "127.0.0.1", exclusive: true }, () => probe.close(() => resolve(true)));
	});
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = net.createServer();
		probe.once("error", reject);
		probe.listen({ port: 0, host: "127.0.0.1" }, () => {
			const address = probe.address();
			const port = typeof address === "object" && address ? address.port : 0;
			probe.close(() => resolve(port));
		});
	});
}

/** Engines get bases on a grid below the OS's ephemeral range (32768+), where servers' `port: 0` and outgoing connections live. */
const ENGINE_PORT_FIRST = 20_000;
const ENGINE_PORT_LAST = 32_000;
/** Bases are multiples of this, so two engines' ranges (P … P+10) never overlap. */
const ENGINE_PORT_STRIDE = 20;

/**
 * A base port P with P, P+1 and P+10 free: the engine's guard, api-peer and
 * metrics ports (see `src/local/engine.ts`). Parallel test files each start
 * engines; on a shared grid one engine's api-peer port can never be another's
 * guard port, which would otherwise answer `/health` in its place.
 */
export async function freeEnginePort(): Promise<number> {
	const slots = Math.floor((ENGINE_PORT_LAST - ENGINE_PORT_FIRST) / ENGINE_PORT_STRIDE);
	for (let attempt = 0; attempt < 200; attempt++) {
		const base = ENGINE_PORT_FIRST + ENGINE_PORT_STRIDE * Math.floor(Math.random() * slots);
		if ((await isFree(base)) && (await isFree(base + 1)) && (await isFree(base + 10))) return base;
	}
	throw new Error("no free engine port range found");
}
