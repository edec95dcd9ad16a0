// Scenario 5: chat fan-out. One sender posts to a room with 100 connected
// receivers; each `message` event's delivery latency is the time from just
// before `postMessage` until that receiver's callback ran (one process, one
// clock). Throughput counts deliveries per second.

import { type BenchContext, eachRuntime, type RuntimeSide, rowName, type Scenario } from "../lib/context.ts";
import { FanOut } from "../lib/fan-out.ts";
import { log, measure, within } from "../lib/measure.ts";

export const RECEIVERS = 100;
/** How long the last deliveries of a message may take before they count as lost. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Receivers connected at a time, and how long all of them may take. */
const CONNECT_WAVE = 20;
const CONNECT_TIMEOUT_MS = 120_000;

/** Messages the sender posts (the Durable Object peer's room posts as many). */
export function chatMessages(ctx: BenchContext): number {
	return ctx.quick ? 20 : 100;
}

export const chatFanOut: Scenario = (ctx) => eachRuntime(ctx, (side) => chatFanOutOn(ctx, side));

async function chatFanOutOn(ctx: BenchContext, side: RuntimeSide): Promise<void> {
	const messages = chatMessages(ctx);
	const room = [`${ctx.runId}-${side.runtime}-chat`];
	const name = rowName(`chat: 1 sender → ${RECEIVERS} receivers, ${messages} messages`, side);
	const fanOut = new FanOut(RECEIVERS, DELIVERY_TIMEOUT_MS);
	const { samples } = fanOut;

	// One identity per connection: presence and the per-user connection cap count users.
	const receiverParams = await Promise.all(Array.from({ length: RECEIVERS }, (_, i) => ctx.auth.as(`r${i}`)));
	const sender = side.client.chatRoom.getOrCreate(room, { params: await ctx.auth.as("sender") }).connect();
	const receivers: Array<typeof sender> = [];
	try {
		// Connected in waves: 101 WebSockets opened at once to one actor took
		// 18 s in one run and over 60 s in the next. `info().online` lists
		// users with a live WebSocket; each wave waits for its own.
		const deadline = Date.now() + CONNECT_TIMEOUT_MS;
		while (receivers.length < RECEIVERS) {
			const wave = Array.from({ length: Math.min(CONNECT_WAVE, RECEIVERS - receivers.length) }, () => {
				const params = receiverParams[receivers.length];
				const conn = side.client.chatRoom.getOrCreate(room, { params }).connect();
				receivers.push(conn);
				conn.on("message", (message) => fanOut.received(message.text));
				return conn;
			});
			while ((await sender.info()).online.length < receivers.length + 1) {
				if (Date.now() > deadline) {
					throw new Error(`chat receivers did not all connect within ${CONNECT_TIMEOUT_MS / 1_000} s`);
				}
				await new Promise((r) => setTimeout(r, 200));
			}
			log(`  ${side.runtime}: ${receivers.length}/${RECEIVERS} receivers connected (wave of ${wave.length})`);
		}
		const result = await measure(name, side.pids, async (progress) => {
			const { elapsedMs, lost } = await fanOut.run(
				messages,
				async (text) => {
					// A post that never answers (seen once, on the native runtime, under load) is an error, not a stall of the run.
					if (!(await within(sender.postMessage(text), DELIVERY_TIMEOUT_MS))) {
						samples.fail(new Error(`postMessage did not answer within ${DELIVERY_TIMEOUT_MS / 1_000} s`));
					}
				},
				progress,
			);
			if (lost > 0) samples.fail(new Error(`${lost} deliveries lost`));
			samples.errors += lost - (lost > 0 ? 1 : 0);
			return {
				scenario: name,
				baseline: "parallel" as const,
				notes: [`delivery latency per receiver; ${lost} lost`, samples.errorNote()].filter(Boolean).join("; "),
				...samples.summary(elapsedMs),
			};
		});
		ctx.results.push(result);
	} finally {
		await Promise.all([sender, ...receivers].map((c) => c.dispose()));
	}
}
