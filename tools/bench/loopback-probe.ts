// One measurement for `npm run bench:loopback` (tools/bench/loopback.ts), run
// inside a network namespace: starts its own engine and app server, then
// times sequential counter actions by three roads and prints one JSON line.
// Run alone, it measures the host's loopback.

import { createClient } from "rivetkit/client";
import type { Registry } from "../../src/registry.ts";
import { startStack } from "../local/stack.ts";
import { benchCredentials } from "./lib/auth.ts";
import { closedLoop } from "./lib/measure.ts";

/** Calls per road; sequential, so this many round trips. */
const CALLS = Number(process.env.LOOPBACK_CALLS ?? "60");
const WARMUP_CALLS = 5;

export interface ProbeResult {
	/** p50 and p99 in ms per road. */
	stateless: { p50: number; p99: number };
	connect: { p50: number; p99: number };
	gateway: { p50: number; p99: number };
}

async function time(calls: number, op: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
	for (let i = 0; i < WARMUP_CALLS; i++) await op();
	const { samples, elapsedMs } = await closedLoop({ concurrency: 1, count: calls, op });
	if (samples.errors > 0) throw new Error(`${samples.errors} of ${calls} calls failed: ${samples.errorNote()}`);
	const { p50Ms, p99Ms } = samples.summary(elapsedMs);
	return { p50: p50Ms ?? Number.NaN, p99: p99Ms ?? Number.NaN };
}

process.env.RIVET_LOG_LEVEL ??= "error";
const stack = await startStack({ serverEnv: { RIVET_LOG_LEVEL: "error" } });
try {
	const client = createClient<Registry>({ endpoint: stack.engine.url });
	const auth = await benchCredentials();
	const handle = client.counter.getOrCreate(["loopback-probe"], { params: auth.params });
	await handle.increment(1);
	const actorId = await handle.resolve();
	const conn = handle.connect();
	const gatewayUrl = `${stack.engine.url}/gateway/${actorId}/action/increment`;
	const result: ProbeResult = {
		stateless: await time(CALLS, () => handle.increment(1)),
		connect: await time(CALLS, () => conn.increment(1)),
		gateway: await time(CALLS, async () => {
			const res = await fetch(gatewayUrl, {
				method: "POST",
				headers: { "content-type": "application/json", ...auth.headers },
				body: JSON.stringify({ args: [1] }),
			});
			if (!res.ok) throw new Error(`gateway answered ${res.status}: ${await res.text()}`);
			await res.arrayBuffer();
		}),
	};
	await conn.dispose();
	await client.dispose();
	console.log(JSON.stringify(result));
} finally {
	await stack.server.kill();
	await stack.stop();
}
