// One sender, many receivers: the measurement loop that the chat scenario
// (scenarios/chat.ts) and the Durable Object peer's room (peer/scenario.ts)
// share, so both sides of the `vs peer` ratio are timed the same way.

import { Samples, within } from "./measure.ts";

/**
 * Posts messages one at a time and waits, after each, until every receiver
 * has it (or `deliveryTimeoutMs` passed); a delivery's latency is the time
 * from just before the post until the receiver's handler ran (one process,
 * one clock). Wire each receiver's message handler to `received(text)`.
 */
export class FanOut {
	readonly samples = new Samples();
	#sentAt = new Map<string, number>();
	#delivered = 0;
	#onDelivery: (() => void) | null = null;

	readonly receivers: number;
	readonly deliveryTimeoutMs: number;

	constructor(receivers: number, deliveryTimeoutMs: number) {
		this.receivers = receivers;
		this.deliveryTimeoutMs = deliveryTimeoutMs;
	}

	/** A receiver got `text`; texts this run did not send are ignored. */
	received(text: string): void {
		const t = this.#sentAt.get(text);
		if (t === undefined) return;
		this.samples.ok(performance.now() - t);
		this.#delivered++;
		this.#onDelivery?.();
	}

	/** Sends `messages` texts with `post`, one at a time; returns the elapsed ms and the deliveries lost. */
	async run(
		messages: number,
		post: (text: string) => Promise<void>,
		progress: (line: string) => void,
	): Promise<{ elapsedMs: number; lost: number }> {
		const started = performance.now();
		for (let i = 0; i < messages; i++) {
			const text = `bench ${i}`;
			const expected = (i + 1) * this.receivers;
			const allDelivered = new Promise<void>((resolve) => {
				this.#onDelivery = () => {
					if (this.#delivered >= expected) resolve();
				};
				this.#onDelivery();
			});
			this.#sentAt.set(text, performance.now());
			await post(text);
			await within(allDelivered, this.deliveryTimeoutMs);
			progress(`${i + 1}/${messages} messages`);
		}
		return { elapsedMs: performance.now() - started, lost: messages * this.receivers - this.#delivered };
	}
}
