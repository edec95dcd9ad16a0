// quota: one user's limits across every actor, the way Rivet's docs build
// rate limiting (an actor keyed by the user, asked before work is accepted).
//
// Key: `[userId]`. Per-actor limits (src/actors/rate-limit.ts) bound one
// counter, one room, one batch; this bounds a user: batches and jobs in
// flight, compute per minute, counters and rooms created per hour.
// Owns: the user's quota book (state, a few hundred entries at most, saved
// before every answer): reserved batches with their lease, a compute token
// bucket, and the creations of the last hour.
// Flow:
//   1. Only the server calls it (`QUOTA_ACCESS`), with the user id in the
//      key, so no argument names whom to charge.
//   2. A coordinator reserves its batch before it records a job
//      (`reserveBatch`, idempotent per batch id), renews the reservation from
//      its sweep while the batch runs, and releases it when the batch
//      finishes; a reservation nobody renews lapses after QUOTA_LEASE_MS, so
//      a coordinator that dies in between cannot hold a slot for ever.
//   3. A counter or a chat room charges its creation (`chargeCreation`, idempotent per
//      actor) before its first write claims it.
// Who may call what is `QUOTA_ACCESS` in ./contract.ts; the pure bookkeeping
// is ./book.ts.

import { type ActionContextOf, actor, UserError } from "rivetkit";
import { z } from "zod";
import { type ActorConnState, connStateFor } from "../../auth/connection.ts";
import { guard } from "../access.ts";
import { parseInput } from "../validate.ts";
import {
	chargeCreation,
	emptyBook,
	type QuotaBook,
	type Refusal,
	releaseBatch,
	renewBatch,
	reserveBatch,
	usageOf,
} from "./book.ts";
import { COMPUTE_CHUNKS_BURST, MAX_JOBS_IN_FLIGHT_PER_USER, QUOTA_ACCESS, type QuotaUsage } from "./contract.ts";

/** Batch ids and created-actor keys: the coordinator's batch id alphabet, or an engine actor id. */
const keySchema = z
	.string()
	.min(1)
	.max(128)
	.regex(/^[A-Za-z0-9_.:-]+$/);

const reserveSchema = z.strictObject({
	batchId: keySchema,
	jobs: z.int().min(1).max(MAX_JOBS_IN_FLIGHT_PER_USER),
	chunks: z.int().min(1).max(COMPUTE_CHUNKS_BURST),
});
const renewSchema = z.strictObject({ batchId: keySchema, jobs: z.int().min(1).max(MAX_JOBS_IN_FLIGHT_PER_USER) });
const creationSchema = z.strictObject({ kind: z.enum(["counter", "room"]), key: keySchema });

export type ReserveBatchRequest = z.input<typeof reserveSchema>;
export type CreationRequest = z.input<typeof creationSchema>;

export const quota = actor({
	options: { name: "Quota", icon: "gauge" },
	// A constant initial book: its compute bucket, stamped at time 0, reads
	// as full (it refills up to COMPUTE_CHUNKS_BURST).
	state: emptyBook(0) as QuotaBook,

	// Runs for WebSocket connections and for every stateless HTTP call.
	createConnState: (c, params: unknown): Promise<ActorConnState> => connStateFor(params, c.request),

	actions: {
		/** Reserves a batch before its coordinator records a job; refuses with `quota_exceeded` or `rate_limited`. */
		reserveBatch: async (c, request: ReserveBatchRequest): Promise<QuotaUsage> => {
			guard(c, QUOTA_ACCESS.reserveBatch);
			const req = parseInput(reserveSchema, request, "request");
			refuseIf(reserveBatch(c.state, req, Date.now()));
			await c.saveState({ immediate: true });
			return usage(c);
		},

		renewBatch: async (c, request: { batchId: string; jobs: number }): Promise<void> => {
			guard(c, QUOTA_ACCESS.renewBatch);
			const req = parseInput(renewSchema, request, "request");
			renewBatch(c.state, req.batchId, req.jobs, Date.now());
			await c.saveState({ immediate: true });
		},

		releaseBatch: async (c, batchId: string): Promise<void> => {
			guard(c, QUOTA_ACCESS.releaseBatch);
			const id = parseInput(keySchema, batchId, "batchId");
			releaseBatch(c.state, id);
			await c.saveState({ immediate: true });
		},

		/** Charges the creation of a counter or room; refuses with `rate_limited`. */
		chargeCreation: async (c, request: CreationRequest): Promise<void> => {
			guard(c, QUOTA_ACCESS.chargeCreation);
			const req = parseInput(creationSchema, request, "request");
			refuseIf(chargeCreation(c.state, req.kind, req.key, Date.now()));
			await c.saveState({ immediate: true });
		},

		usage: (c): QuotaUsage => {
			guard(c, QUOTA_ACCESS.usage);
			return usage(c);
		},
	},
});

type QuotaActionContext = ActionContextOf<typeof quota>;

function usage(c: QuotaActionContext): QuotaUsage {
	return { userId: c.key[0] ?? "", ...usageOf(c.state, Date.now()) };
}

/** Turns a refusal from the book into the `UserError` the caller passes on (the book is unchanged). */
function refuseIf(refusal: Refusal | null): void {
	if (refusal) throw quotaError(refusal);
}

export function quotaError(refusal: Refusal): UserError {
	return new UserError(refusal.message, { code: refusal.code, metadata: { retryAfterMs: refusal.retryAfterMs } });
}
