// Helpers for crash tests: clients bound to a test's own engine, and reads
// that retry while a restarted server brings its actors back.

import { existsSync, readFileSync } from "node:fs";
import type { Registry } from "../../src/registry.ts";
import { type SignedIn, signIn } from "../../tools/client/auth.ts";

import { clientOn } from "../support.ts";

export { serverParams } from "../actors/helpers.ts";

/** Signs in on a (crash) stack's app server; the token stays valid across that server's restarts. */
export function signInOn(appUrl: string, name: string): Promise<SignedIn> {
	return signIn(appUrl, name);
}

/** How long a read may keep failing after a crash before the test fails. */
const RECOVERY_TIMEOUT_MS = 60_000;
const RETRY_INTERVAL_MS = 250;

/** A client on a crash test's own engine. */
export function clientFor(engineUrl: string, poolName?: string) {
	return clientOn<Registry>(engineUrl, poolName);
}

/**
 * Runs `read` until it succeeds. Right after a crash the engine may answer
 * with a transient error while it notices the old server is gone; reads are
 * safe to retry, writes are not (they carry an idempotency key instead).
 */
export async function eventually<T>(read: () => Promise<T>): Promise<T> {
	const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
	while (true) {
		try {
			return await read();
		} catch (error) {
			if (Date.now() > deadline) throw error;
			await new Promise((r) => setTimeout(r, RETRY_INTERVAL_MS));
		}
	}
}

export interface LedgerLine {
	ms: number;
	pid: number;
	event: "START" | "END";
	jobId: string;
	step: string;
}

/** The worker's step ledger (src/actors/jobs/ledger.ts), read from its file; empty until the first write. */
export function readLedger(file: string): LedgerLine[] {
	if (!existsSync(file)) return [];
	return readFileSync(file, "utf8")
		.split("\n")
		.filter((line) => line.length > 0)
		.map((line) => {
			const [ms, pid, event, jobId, step] = line.split(" ");
			return {
				ms: Number(ms),
				pid: Number(pid),
				event: event as "START" | "END",
				jobId: jobId ?? "",
				step: step ?? "",
			};
		});
}
