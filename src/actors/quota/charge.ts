// How other actors ask a user's quota actor (./quota.ts) before accepting
// work: one call each, through the calling actor's client
// (`c.client<Registry>()`), with a fresh server token. A refusal arrives as
// the quota actor's error (`quota_exceeded` / `rate_limited`, metadata
// `retryAfterMs`) and is thrown again as the calling actor's own
// `UserError`, so the client sees the same code and metadata from the actor
// it called, and the calling actor changes nothing.

import { UserError } from "rivetkit";
import type { Client } from "rivetkit/client";
import { serverConnParams } from "../../auth/connection.ts";
import type { Registry } from "../../registry.ts";
import type { CreationKind } from "./contract.ts";
import type { ReserveBatchRequest } from "./quota.ts";

type AppClient = Client<Registry>;

async function quotaOf(client: AppClient, userId: string) {
	return client.quota.getOrCreate([userId], { params: await serverConnParams() });
}

/** Reserves a batch for `userId` (see `QUOTA_ACCESS.reserveBatch`); throws the refusal as a `UserError`. */
export async function reserveBatchFor(client: AppClient, userId: string, request: ReserveBatchRequest): Promise<void> {
	await passRefusals(async () => (await quotaOf(client, userId)).reserveBatch(request));
}

export async function renewBatchFor(client: AppClient, userId: string, batchId: string, jobs: number): Promise<void> {
	await (await quotaOf(client, userId)).renewBatch({ batchId, jobs });
}

export async function releaseBatchFor(client: AppClient, userId: string, batchId: string): Promise<void> {
	await (await quotaOf(client, userId)).releaseBatch(batchId);
}

/** Charges one creation of `kind` (keyed by the created actor's id) to `userId`; throws the refusal as a `UserError`. */
export async function chargeCreationFor(
	client: AppClient,
	userId: string,
	kind: CreationKind,
	key: string,
): Promise<void> {
	await passRefusals(async () => (await quotaOf(client, userId)).chargeCreation({ kind, key }));
}

const QUOTA_CODES: ReadonlySet<string> = new Set(["quota_exceeded", "rate_limited"]);

async function passRefusals(call: () => Promise<unknown>): Promise<void> {
	try {
		await call();
	} catch (error) {
		const e = error as { group?: unknown; code?: unknown; message?: unknown; metadata?: unknown };
		if (e.group === "user" && typeof e.code === "string" && QUOTA_CODES.has(e.code)) {
			const retryAfterMs = (e.metadata as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
			throw new UserError(String(e.message), {
				code: e.code,
				metadata: { retryAfterMs: typeof retryAfterMs === "number" ? retryAfterMs : 0 },
			});
		}
		throw error;
	}
}
