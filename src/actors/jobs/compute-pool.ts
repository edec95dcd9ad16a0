// The pool of worker threads that job chunks run on.
//
// A chunk can take up to about a second of CPU (MAX_PRIME_LIMIT,
// MAX_HASH_ROUNDS). Run on the server's event loop, that second would stall
// every actor this server hosts: chat messages and counter calls would wait
// behind it. On a worker thread it does not: the event loop only waits for
// the chunk's result message.
//
// The pool is `tinypool` (pinned in package.json), started lazily on the
// first chunk, so importing the registry starts no threads. Threads that stay
// idle for `COMPUTE_THREAD_IDLE_MS` exit, so an idle server holds none.

import Tinypool from "tinypool";
import type { ChunkResult, ChunkTask } from "./compute.ts";

/**
 * Worker threads at most: chunks of different workers (actors) run in
 * parallel up to this many; more wait in the pool's queue. Two, because the
 * reference machine has two cores and the engine and event loop need some.
 */
export const COMPUTE_POOL_SIZE = 2;
/** How long an idle thread is kept before it exits. */
export const COMPUTE_THREAD_IDLE_MS = 30_000;

let pool: Tinypool | undefined;

function computePool(): Tinypool {
	pool ??= new Tinypool({
		filename: new URL("./compute-thread.ts", import.meta.url).href,
		minThreads: 0,
		maxThreads: COMPUTE_POOL_SIZE,
		idleTimeout: COMPUTE_THREAD_IDLE_MS,
	});
	return pool;
}

/** Runs `task` on a pool thread. A throw in the task's code rejects with its error. */
export async function runOnPool<T extends ChunkTask>(task: T): Promise<ChunkResult<T>> {
	// The thread returns what `runChunkTask(task)` returned, structured-cloned:
	// plain data of exactly this type.
	return (await computePool().run(task)) as ChunkResult<T>;
}
