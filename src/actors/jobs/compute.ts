// The work itself: prime counting, iterated SHA-256 and word statistics,
// each split into chunks so a worker can make progress durable (one workflow
// step per chunk) and report it (one `progress` event per chunk).
//
// Pure functions, no Rivet: `computeJob` walks the chunks in a fixed order and
// hands each one, as a plain-data `ChunkTask`, to a `ChunkRunner`. The worker
// implements the runner as a named workflow step that runs the task on a
// worker thread (`./compute-pool.ts`), so the computation never blocks the
// event loop every actor of the server shares. Each chunk's result is plain
// JSON, because the workflow records it in its history and replays it after
// a crash instead of recomputing it.

import { createHash } from "node:crypto";
import type { JobOutput, JobSpec, PrimesOutput, Sha256Output, WordstatsOutput } from "./jobs.ts";

/** Upper bound on chunks per job (and so on workflow steps per job). */
export const MAX_CHUNKS = 20;
/** Numbers sieved per prime chunk. */
const PRIME_CHUNK_NUMBERS = 100_000;
/** Hash rounds per sha256 chunk. */
const HASH_CHUNK_ROUNDS = 50_000;
/** Words counted per wordstats chunk. */
const WORD_CHUNK_WORDS = 500;
/** How many of the most frequent words a wordstats result lists. */
const TOP_WORDS = 5;

/** Input the schema allows but the job cannot work with. Not worth retrying. */
export class JobInputError extends Error {
	override name = "JobInputError";
}

interface WordTally {
	words: number;
	/** `[word, count]` pairs sorted by word. An array, not an object, so a word like "__proto__" is just data. */
	counts: Array<[string, number]>;
	longest: string;
}

/** One chunk of work as plain data: what a worker thread receives. */
export type ChunkTask =
	| { kind: "sieve"; low: number; high: number }
	| { kind: "hash"; start: string; fromText: boolean; rounds: number }
	| { kind: "words"; text: string; index: number; chunks: number; before: WordTally };

/** What a chunk task produces. */
export type ChunkResult<T extends ChunkTask> = T extends { kind: "sieve" }
	? PrimesOutput
	: T extends { kind: "hash" }
		? string
		: WordTally;

/** Runs one chunk task; pure and synchronous (the worker-thread entry point calls it). */
export function runChunkTask<T extends ChunkTask>(task: T): ChunkResult<T>;
export function runChunkTask(task: ChunkTask): PrimesOutput | string | WordTally {
	switch (task.kind) {
		case "sieve":
			return sievePrimes(task.low, task.high);
		case "hash":
			return hashRounds(task.start, task.fromText, task.rounds);
		case "words": {
			const words = tokenize(task.text);
			const [from, to] = chunkRange(task.index, task.chunks, words.length);
			return addWords(task.before, words.slice(from, to));
		}
	}
}

/** Runs one chunk (the worker: as a workflow step named after `index`, on a worker thread). */
export type ChunkRunner = <T extends ChunkTask>(index: number, task: T) => Promise<ChunkResult<T>>;

/** Checks what zod cannot and says how many chunks the job takes. */
export function planJob(spec: JobSpec): { chunks: number } {
	switch (spec.kind) {
		case "primes":
			return { chunks: chunkCount(spec.input.limit - 1, PRIME_CHUNK_NUMBERS) };
		case "sha256":
			return { chunks: chunkCount(spec.input.rounds, HASH_CHUNK_ROUNDS) };
		case "wordstats": {
			const words = tokenize(spec.input.text).length;
			if (words === 0) throw new JobInputError("wordstats: the text contains no words");
			return { chunks: chunkCount(words, WORD_CHUNK_WORDS) };
		}
	}
}

/** Computes the job chunk by chunk; `chunks` must come from `planJob`. */
export async function computeJob(spec: JobSpec, chunks: number, runChunk: ChunkRunner): Promise<JobOutput> {
	switch (spec.kind) {
		case "primes":
			return computePrimes(spec.input.limit, chunks, runChunk);
		case "sha256":
			return computeSha256(spec.input.text, spec.input.rounds, chunks, runChunk);
		case "wordstats":
			return computeWordstats(spec.input.text, chunks, runChunk);
	}
}

function chunkCount(size: number, perChunk: number): number {
	return Math.min(MAX_CHUNKS, Math.max(1, Math.ceil(size / perChunk)));
}

/** The half-open range `[start, end)` of chunk `index` when `size` items are split evenly. */
function chunkRange(index: number, chunks: number, size: number): [number, number] {
	const per = Math.ceil(size / chunks);
	return [Math.min(size, index * per), Math.min(size, (index + 1) * per)];
}

// Primes: count the primes in [2, limit] with a segmented sieve, one segment per chunk.

async function computePrimes(limit: number, chunks: number, runChunk: ChunkRunner): Promise<PrimesOutput> {
	let total: PrimesOutput = { count: 0, largest: 0 };
	for (let i = 0; i < chunks; i++) {
		const [from, to] = chunkRange(i, chunks, limit - 1);
		const part = await runChunk(i, { kind: "sieve", low: 2 + from, high: 2 + to - 1 });
		total = { count: total.count + part.count, largest: Math.max(total.largest, part.largest) };
	}
	return total;
}

/** Primes in `[low, high]`: their count and the largest (0 if none). */
export function sievePrimes(low: number, high: number): PrimesOutput {
	if (high < low) return { count: 0, largest: 0 };
	const root = Math.floor(Math.sqrt(high));
	const base = smallPrimes(root);
	const composite = new Uint8Array(high - low + 1);
	for (const p of base) {
		const first = Math.max(p * p, Math.ceil(low / p) * p);
		for (let n = first; n <= high; n += p) composite[n - low] = 1;
	}
	let count = 0;
	let largest = 0;
	for (let n = Math.max(2, low); n <= high; n++) {
		if (composite[n - low] === 0) {
			count++;
			largest = n;
		}
	}
	return { count, largest };
}

function smallPrimes(max: number): number[] {
	const composite = new Uint8Array(max + 1);
	const primes: number[] = [];
	for (let n = 2; n <= max; n++) {
		if (composite[n] === 1) continue;
		primes.push(n);
		for (let m = n * n; m <= max; m += n) composite[m] = 1;
	}
	return primes;
}

// sha256: hash the text, then hash the digest again, `rounds` times in all.

async function computeSha256(
	text: string,
	rounds: number,
	chunks: number,
	runChunk: ChunkRunner,
): Promise<Sha256Output> {
	let digest = "";
	for (let i = 0; i < chunks; i++) {
		const [from, to] = chunkRange(i, chunks, rounds);
		const previous = digest;
		digest = await runChunk(i, {
			kind: "hash",
			start: from === 0 ? text : previous,
			fromText: from === 0,
			rounds: to - from,
		});
	}
	return { digest };
}

/** Applies sha256 `rounds` times; the first round hashes `text` when `fromText`, else the hex digest's bytes. */
function hashRounds(start: string, fromText: boolean, rounds: number): string {
	let bytes = fromText ? Buffer.from(start, "utf8") : Buffer.from(start, "hex");
	for (let r = 0; r < rounds; r++) bytes = createHash("sha256").update(bytes).digest();
	return bytes.toString("hex");
}

// wordstats: word count, distinct words, the most frequent ones, the longest.

async function computeWordstats(text: string, chunks: number, runChunk: ChunkRunner): Promise<WordstatsOutput> {
	let tally: WordTally = { words: 0, counts: [], longest: "" };
	for (let i = 0; i < chunks; i++) {
		tally = await runChunk(i, { kind: "words", text, index: i, chunks, before: tally });
	}
	const top = [...tally.counts]
		.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
		.slice(0, TOP_WORDS)
		.map(([word, count]) => ({ word, count }));
	return { words: tally.words, uniqueWords: tally.counts.length, top, longest: tally.longest };
}

/** Lower-cased words: runs of letters and digits, with inner apostrophes ("don't"). */
export function tokenize(text: string): string[] {
	return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu) ?? [];
}

function addWords(tally: WordTally, words: string[]): WordTally {
	const counts = new Map(tally.counts);
	let longest = tally.longest;
	for (const word of words) {
		counts.set(word, (counts.get(word) ?? 0) + 1);
		if (word.length > longest.length) longest = word;
	}
	return {
		words: tally.words + words.length,
		counts: [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
		longest,
	};
}
