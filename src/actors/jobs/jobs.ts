// The job vocabulary shared by the worker and the coordinator: what a job
// looks like on the `jobs` queue, what it produces, and the bounds that keep
// every job cheap enough for one actor (and for the tests).
//
// A job is `{ kind, input }` plus a `jobId` (the idempotency key: a worker
// runs each jobId once) and, when a coordinator sent it, a `reply` telling the
// worker where to report and the batch secret that proves the report is real.

import { z } from "zod";
import { ID_PATTERN, MAX_ERROR_LENGTH, MAX_HASH_ROUNDS, MAX_JOB_TEXT, MAX_PRIME_LIMIT } from "./contract.ts";

export const jobIdSchema = z.string().min(1).max(128).regex(ID_PATTERN, "use letters, digits and _ . : -");

export const primesInputSchema = z.strictObject({ limit: z.int().min(2).max(MAX_PRIME_LIMIT) });
export const sha256InputSchema = z.strictObject({
	text: z.string().max(MAX_JOB_TEXT),
	rounds: z.int().min(1).max(MAX_HASH_ROUNDS),
});
export const wordstatsInputSchema = z.strictObject({ text: z.string().min(1).max(MAX_JOB_TEXT) });

/** `{ kind, input }`: what to compute. The coordinator's `submit` takes a list of these. */
export const jobSpecSchema = z.discriminatedUnion("kind", [
	z.strictObject({ kind: z.literal("primes"), input: primesInputSchema }),
	z.strictObject({ kind: z.literal("sha256"), input: sha256InputSchema }),
	z.strictObject({ kind: z.literal("wordstats"), input: wordstatsInputSchema }),
]);
export type JobSpec = z.output<typeof jobSpecSchema>;
export type JobKind = JobSpec["kind"];

/** Where a worker reports a coordinator's job: the batch and its secret. */
export const jobReplySchema = z.strictObject({
	batchId: jobIdSchema,
	secret: z.string().min(16).max(128),
});
export type JobReply = z.output<typeof jobReplySchema>;

/**
 * The user a job is computed for (its batch's owner): the compute pool serves
 * users in turn (./compute-pool.ts). Only the server sends jobs, so it is
 * trusted; jobs without it share one lane.
 */
export const jobOwnerSchema = z.string().min(1).max(256);

const jobEnvelope = { jobId: jobIdSchema, owner: jobOwnerSchema.optional(), reply: jobReplySchema.optional() };

/** The body of a message on a worker's `jobs` queue. rivetkit validates it on send. */
export const jobMessageSchema = z.discriminatedUnion("kind", [
	z.strictObject({ ...jobEnvelope, kind: z.literal("primes"), input: primesInputSchema }),
	z.strictObject({ ...jobEnvelope, kind: z.literal("sha256"), input: sha256InputSchema }),
	z.strictObject({ ...jobEnvelope, kind: z.literal("wordstats"), input: wordstatsInputSchema }),
]);
export type JobMessage = z.output<typeof jobMessageSchema>;

export const primesOutputSchema = z.strictObject({ count: z.int().nonnegative(), largest: z.int().nonnegative() });
export const sha256OutputSchema = z.strictObject({ digest: z.string().regex(/^[0-9a-f]{64}$/) });
export const wordstatsOutputSchema = z.strictObject({
	words: z.int().nonnegative(),
	uniqueWords: z.int().nonnegative(),
	top: z.array(z.strictObject({ word: z.string(), count: z.int().positive() })).max(10),
	longest: z.string(),
});
/** What a finished job computed; its shape depends on the job's kind. */
export const jobOutputSchema = z.union([primesOutputSchema, sha256OutputSchema, wordstatsOutputSchema]);
export type PrimesOutput = z.output<typeof primesOutputSchema>;
export type Sha256Output = z.output<typeof sha256OutputSchema>;
export type WordstatsOutput = z.output<typeof wordstatsOutputSchema>;
export type JobOutput = z.output<typeof jobOutputSchema>;

/** A job's outcome: what `wait: true` senders, `getJob` and `jobFinished` see. */
export const jobResultSchema = z.discriminatedUnion("status", [
	z.strictObject({ jobId: jobIdSchema, status: z.literal("done"), result: jobOutputSchema }),
	z.strictObject({ jobId: jobIdSchema, status: z.literal("failed"), error: z.string().min(1).max(MAX_ERROR_LENGTH) }),
]);
export type JobResult = z.output<typeof jobResultSchema>;

/** Shortens an error to one line a client may see. */
export function publicErrorText(text: string): string {
	const line = text.split("\n", 1)[0] ?? "";
	return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 1)}…` : line;
}
