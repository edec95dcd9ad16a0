// `vs peer`: each of the fleet's rows that has a peer counterpart (a Durable
// Object, or for the job rows a Cloudflare Workflow),
// divided by that peer row of the same run. The table's column is ops/s
// ours ÷ peer's (below 1 means the fleet is slower, as in `vs baseline`); the
// lines printed under the table add the p50 and p90 ratios, since the one-at-a-
// time targets are stated in latency.

import type { ScenarioResult } from "../lib/measure.ts";
import { WORKFLOW_PEER_ROWS } from "./jobs-scenario.ts";
import { PEER_ROWS } from "./scenario.ts";

/** Our row (by name, or a test over names) → the peer row it is compared with. */
/** `name` on either runtime (the wasm rows end in ` [wasm]`, tools/bench/lib/context.ts). */
const eitherRuntime = (name: string) => (s: string) => s === name || s === `${name} [wasm]`;

const PAIRS: Array<{ ours: (scenario: string) => boolean; peer: (scenario: string) => boolean }> = [
	{
		ours: eitherRuntime("gateway: increment, 1 actor, 1 conn (sequential)"),
		peer: (s) => s === PEER_ROWS.httpSequential,
	},
	{ ours: eitherRuntime("gateway: increment, 1 actor, 50 conns"), peer: (s) => s === PEER_ROWS.httpParallel },
	{
		ours: (s) => /^client \((handler|start|wasm)\): \.connect\(\), sequential$/.test(s),
		peer: (s) => s === PEER_ROWS.wsSequential,
	},
	{
		ours: (s) => /^client \((handler|start|wasm)\): \.connect\(\), \d+ in flight$/.test(s),
		peer: (s) => s === PEER_ROWS.wsPipelined,
	},
	{ ours: (s) => s.startsWith("chat: 1 sender → "), peer: (s) => s.startsWith("peer: room 1 sender → ") },
	// The job rows (scenarios/jobs.ts) and the Workflows peer's (jobs-scenario.ts): ops are jobs/s on both sides.
	{
		ours: (s) => /^worker: \d+ jobs queued to 1 worker( \[wasm\])?$/.test(s),
		peer: (s) => s.startsWith(WORKFLOW_PEER_ROWS.sequentialPrefix),
	},
	{
		ours: (s) => /^coordinator: \d+ jobs, \d+×\d+ workers( \[wasm\])?$/.test(s),
		peer: (s) => s.startsWith(WORKFLOW_PEER_ROWS.fanOutPrefix),
	},
];

export interface PeerComparison {
	ours: string;
	peer: string;
	/** ops/s ours ÷ peer's: below 1, the fleet does less per second. */
	throughputRatio: number | null;
	/** p50 ours ÷ peer's: above 1, the fleet is slower per call. */
	p50Ratio: number | null;
	p90Ratio: number | null;
}

const divide = (a: number | null | undefined, b: number | null | undefined): number | null =>
	a === null || a === undefined || !b ? null : a / b;

/** Fills `peerRatio` on our rows and returns every pair found in this run. */
export function applyPeerRatios(results: ScenarioResult[]): PeerComparison[] {
	const comparisons: PeerComparison[] = [];
	for (const pair of PAIRS) {
		const peer = results.find((r) => pair.peer(r.scenario));
		if (!peer) continue;
		for (const ours of results.filter((r) => pair.ours(r.scenario))) {
			ours.peerRatio = divide(ours.opsPerS, peer.opsPerS);
			comparisons.push({
				ours: ours.scenario,
				peer: peer.scenario,
				throughputRatio: ours.peerRatio,
				p50Ratio: divide(ours.p50Ms, peer.p50Ms),
				p90Ratio: divide(ours.p90Ms, peer.p90Ms),
			});
		}
	}
	return comparisons;
}

const times = (r: number | null) => (r === null ? "?" : `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`);

export function peerLines(comparisons: PeerComparison[]): string {
	return comparisons
		.map(
			(c) =>
				`- ${c.ours} vs ${c.peer}: throughput ${times(c.throughputRatio)} the peer's, p50 ${times(c.p50Ratio)}, p90 ${times(c.p90Ratio)}`,
		)
		.join("\n");
}
