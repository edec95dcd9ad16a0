// HTTP load with autocannon, the same generator for the plain Hono baseline
// and for actions through the engine's gateway, so their numbers compare.

import autocannon from "autocannon";
import type { ScenarioResult } from "./measure.ts";

export interface HttpLoad {
	url: string;
	connections: number;
	durationS: number;
	/** Requests each connection cycles through; a single GET of `url` by default. */
	requests?: Array<{ method: "GET" | "POST"; path: string; body?: string }>;
	/** Extra headers on every request (e.g. `x-rivet-conn-params`). */
	headers?: Record<string, string>;
	onProgress?: (text: string) => void;
}

export async function httpLoad(
	load: HttpLoad,
): Promise<Pick<ScenarioResult, "opsPerS" | "p50Ms" | "p90Ms" | "p99Ms" | "errors">> {
	let done = 0;
	const result = await new Promise<autocannon.Result>((resolve, reject) => {
		const instance = autocannon(
			{
				url: load.url,
				connections: load.connections,
				duration: load.durationS,
				headers: { "content-type": "application/json", ...load.headers },
				...(load.requests ? { requests: load.requests } : {}),
			},
			(error: unknown, res: autocannon.Result) => (error ? reject(error) : resolve(res)),
		);
		instance.on("response", () => {
			done++;
			if (done % 100 === 0) load.onProgress?.(`${done} responses`);
		});
	});
	return {
		opsPerS: result["2xx"] / result.duration,
		p50Ms: result.latency.p50,
		p90Ms: result.latency.p90,
		p99Ms: result.latency.p99,
		// Connection errors, timeouts and every non-2xx answer count as errors.
		errors: result.errors + result.non2xx,
	};
}

/** One JSON POST, as a browser or curl would send an action to the gateway. */
export async function postJson(
	url: string,
	body: unknown,
	headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
	const res = await fetch(url, {
		method: "POST",
		headers: { "content-type": "application/json", ...headers },
		body: JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, body: text.length > 0 ? JSON.parse(text) : null };
}
