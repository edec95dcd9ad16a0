// The bench's Durable Object peer group: the same call patterns as the
// fleet's rows, driven by the same load generators and measurement functions
// (autocannon through `httpLoad`, `closedLoop`, `Samples`, `measure`), against
// a counter and a chat room written as Durable Objects and served by
// Miniflare on loopback (worker.ts). Each row's "engine CPU s" is workerd's
// and "node CPU s" is the Miniflare host process's.

import type { Scenario } from "../lib/context.ts";
import { FanOut } from "../lib/fan-out.ts";
import { httpLoad } from "../lib/http.ts";
import { closedLoop, log, measure, type ScenarioResult } from "../lib/measure.ts";
import { durationS, HTTP_CONNECTIONS, PIPELINE_DEPTH } from "../scenarios/actions.ts";
import { chatMessages, DELIVERY_TIMEOUT_MS, RECEIVERS } from "../scenarios/chat.ts";
import { PeerSocket, type RunningPeer, startPeer } from "./peer.ts";

const WARMUP_CALLS = 5;
const INCREMENT = { args: [1] };

/** Row names, which compare.ts pairs with the fleet's rows. */
export const PEER_ROWS = {
	httpSequential: "peer: HTTP increment, 1 conn (sequential)",
	httpParallel: `peer: HTTP increment, ${HTTP_CONNECTIONS} conns`,
	wsSequential: "peer: WebSocket increment, sequential",
	wsPipelined: `peer: WebSocket increment, ${PIPELINE_DEPTH} in flight`,
	fanOut: (messages: number) => `peer: room 1 sender → ${RECEIVERS} receivers, ${messages} messages`,
} as const;

function wsUrl(peer: RunningPeer, path: string): string {
	return `${peer.url.replace(/^http/, "ws")}${path}`;
}

export const durableObjectPeer: Scenario = async (ctx) => {
	log("  starting the Durable Object peer (Miniflare)…");
	const peer = await startPeer();
	try {
		const counterPath = `/counter/${ctx.runId}-peer/increment`;
		const body = JSON.stringify(INCREMENT);
		for (let i = 0; i < WARMUP_CALLS; i++) {
			const res = await fetch(`${peer.url}${counterPath}`, { method: "POST", body });
			if (!res.ok) throw new Error(`the peer answered ${res.status}: ${await res.text()}`);
		}
		for (const [name, connections, kind] of [
			[PEER_ROWS.httpSequential, 1, "sequential"],
			[PEER_ROWS.httpParallel, HTTP_CONNECTIONS, "parallel"],
		] as const) {
			const result = await measure(name, peer.pids, async (progress) => ({
				scenario: name,
				baseline: kind,
				notes: "counter Durable Object over POST /counter/{key}/increment; engine CPU = workerd",
				...(await httpLoad({
					url: peer.url,
					connections,
					durationS: durationS(ctx),
					requests: [{ method: "POST", path: counterPath, body }],
					onProgress: progress,
				})),
			}));
			ctx.results.push(result);
		}

		const socket = await PeerSocket.open(wsUrl(peer, `/counter/${ctx.runId}-peer/ws`));
		try {
			for (let i = 0; i < WARMUP_CALLS; i++) await socket.call(INCREMENT);
			for (const [name, concurrency, kind, notes] of [
				[PEER_ROWS.wsSequential, 1, "sequential", "one WebSocket"],
				[PEER_ROWS.wsPipelined, PIPELINE_DEPTH, "parallel", "one WebSocket, pipelined"],
			] as const) {
				const result = await measure(name, peer.pids, async (progress) => {
					const { samples, elapsedMs } = await closedLoop({
						concurrency,
						durationMs: durationS(ctx) * 1_000,
						op: () => socket.call(INCREMENT),
						onProgress: progress,
					});
					return {
						scenario: name,
						baseline: kind,
						notes: [`${notes}; engine CPU = workerd`, samples.errorNote()].filter(Boolean).join("; "),
						...samples.summary(elapsedMs),
					};
				});
				ctx.results.push(result);
			}
		} finally {
			socket.close();
		}

		await roomFanOut(ctx.runId, chatMessages(ctx), peer, ctx.results);
	} finally {
		await peer.stop();
		log("  stopped the Durable Object peer");
	}
};

/**
 * Scenario 5's measurement against the peer's room: one sender posts,
 * waits until every receiver got the message (or the delivery timeout),
 * then posts the next; latency is post → each receiver's message event.
 */
async function roomFanOut(
	runId: string,
	messages: number,
	peer: RunningPeer,
	results: ScenarioResult[],
): Promise<void> {
	const name = PEER_ROWS.fanOut(messages);
	const roomPath = `/room/${runId}-peer-room/ws`;
	const fanOut = new FanOut(RECEIVERS, DELIVERY_TIMEOUT_MS);
	const sender = await PeerSocket.open(wsUrl(peer, `${roomPath}?username=sender`));
	const receivers: PeerSocket[] = [];
	try {
		for (let i = 0; i < RECEIVERS; i++) {
			const receiver = await PeerSocket.open(wsUrl(peer, `${roomPath}?username=r${i}`));
			receivers.push(receiver);
			receiver.onEvent = (e) => {
				if (e.event === "message") fanOut.received((e.message as { text: string }).text);
			};
		}
		log(`  ${RECEIVERS}/${RECEIVERS} peer receivers connected`);
		const result = await measure(name, peer.pids, async (progress) => {
			const { elapsedMs, lost } = await fanOut.run(
				messages,
				async (text) => {
					await sender.call({ text });
				},
				progress,
			);
			fanOut.samples.errors += lost;
			return {
				scenario: name,
				baseline: "parallel" as const,
				notes: `room Durable Object, SQLite INSERT … RETURNING + broadcast; delivery latency per receiver; ${lost} lost; engine CPU = workerd`,
				...fanOut.samples.summary(elapsedMs),
			};
		});
		results.push(result);
	} finally {
		for (const s of [sender, ...receivers]) s.close();
	}
}
