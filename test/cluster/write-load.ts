// A steady write load for failover tests: one sequential writer per tally (a
// fixture actor, test/fixtures/actors/tally.ts), every write `increment(1)`
// through the project's retrying client with its own idempotency key, every
// acknowledgement recorded with its timing.
//
// Tallies start at zero and each writer waits for one write's
// acknowledgement before sending the next, so the acknowledged values of a
// tally must be exactly 1, 2, 3, ...: a gap means a write was applied twice,
// and a final count above the last value means an unacknowledged write landed.

import type { createClient } from "rivetkit/client";
import { callIdempotent } from "../../tools/client/retry.ts";
import type { FixtureRegistry } from "../fixtures/registry.ts";

/** Per-call deadline: longer than any failover we expect, so no write is abandoned. */
const WRITE_DEADLINE_MS = 90_000;
/**
 * One attempt may wait this long before it is abandoned and sent again (same
 * key). Short, so the measured recovery is the cluster's, not a request that
 * went to a path that no longer answers and waited out a long timeout.
 */
const WRITE_ATTEMPT_TIMEOUT_MS = 2_000;

export interface Ack {
	key: string;
	value: number;
	startedAt: number;
	ackedAt: number;
	attempts: number;
}

export interface WriteLoad {
	acks: Ack[];
	/** Calls that failed for good: expected to stay empty. */
	failures: unknown[];
	/** Attempts that failed and were retried with the same key. */
	retries(): number;
	acksFor(key: string): Ack[];
	/** Acknowledged writes per tally, fewest first. */
	fewestAcks(): number;
	/**
	 * The tallies with fewer than `atLeast` acknowledged writes started after
	 * `time`, each described (its write in flight, its failure): empty once
	 * every tally has them, and what a failed wait for that shows.
	 */
	waitingSince(time: number, atLeast?: number): string[];
	stop(): Promise<void>;
}

type Client = ReturnType<typeof createClient<FixtureRegistry>>;

export function startWriteLoad(client: Client, keys: string[]): WriteLoad {
	const acks: Ack[] = [];
	const failures: unknown[] = [];
	let retries = 0;
	let running = true;

	const inFlight = new Map<string, { startedAt: number; attempts: () => number }>();
	const failedKeys = new Map<string, unknown>();

	const writer = async (key: string): Promise<void> => {
		while (running) {
			const startedAt = Date.now();
			let attempts = 0;
			inFlight.set(key, { startedAt, attempts: () => attempts });
			try {
				const value = await callIdempotent(
					({ requestId, signal }) => {
						attempts++;
						return client.tally.getOrCreate([key], { signal }).increment(1, { requestId });
					},
					{
						deadlineMs: WRITE_DEADLINE_MS,
						attemptTimeoutMs: WRITE_ATTEMPT_TIMEOUT_MS,
						onRetry: () => {
							retries++;
						},
					},
				);
				acks.push({ key, value, startedAt, ackedAt: Date.now(), attempts });
			} catch (error) {
				failures.push(error);
				failedKeys.set(key, error);
				return;
			} finally {
				inFlight.delete(key);
			}
		}
	};
	const writers = keys.map((key) => writer(key));

	const acksFor = (key: string) => acks.filter((a) => a.key === key);
	return {
		acks,
		failures,
		retries: () => retries,
		acksFor,
		fewestAcks: () => Math.min(...keys.map((k) => acksFor(k).length)),
		waitingSince: (time, atLeast = 1) =>
			keys.flatMap((key) => {
				const since = acksFor(key).filter((a) => a.startedAt > time).length;
				if (since >= atLeast) return [];
				const now = Date.now();
				const current = inFlight.get(key);
				const failure = failedKeys.get(key);
				return [
					`${key}: ${since} of ${atLeast} acknowledged, ` +
						(current
							? `a write in flight since ${now - current.startedAt} ms ago, ${current.attempts()} attempt(s)`
							: failure
								? `stopped: ${String(failure)}`
								: "no write in flight"),
				];
			}),
		async stop() {
			running = false;
			await Promise.all(writers);
		},
	};
}
