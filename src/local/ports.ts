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

/**
 * A base port P with P, P+1 and P+10 free: the engine's guard, api-peer and
 * metrics ports (see `src/local/engine.ts`).
 */
export async function freeEnginePort(): Promise<number> {
	for (let attempt = 0; attempt < 200; attempt++) {
		const base = 20_000 + Math.floor(Math.random() * 30_000);
		if ((await isFree(base)) && (await isFree(base + 1)) && (await isFree(base + 10))) return base;
	}
	throw new Error("no free engine port range found");
}
