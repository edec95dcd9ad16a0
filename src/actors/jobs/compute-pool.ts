// The pool of worker threads that job chunks run on, served fairly.
//
// A chunk can take up to about a second of CPU (MAX_PRIME_LIMIT,
// MAX_HASH_ROUNDS). Run on the server's event loop, that second would stall
// every actor this server hosts: chat messages and counter calls would wait
// behind it. On a worker thread it does not: the event loop only waits for
// the chunk's result message.
//
// Fairness: the threads are shared by every user's jobs, and a queue served
// first come, first served lets one user's backlog delay everyone else's
// jobs by all of it. So chunks wait here, in one lane per user (the job's
// owner), and lanes take turns: whenever a thread is free, the next lane in
// the round gets it for one chunk and moves to the back. A user who arrives
// behind a backlog waits for at most the chunks already running plus one
// chunk of each other active user, however deep their lanes are. The thread
// pool itself never holds more than it has threads for, so its own queue
// (FIFO) stays empty.
//
// The pool is `tinypool` (pinned in package.json), started lazily on the
// first chunk, so importing the registry starts no threads. Threads that stay
// idle for `COMPUTE_THREAD_IDLE_MS` exit, so an idle server holds none.

import Tinypool from "tinypool";
import type { ChunkResult, ChunkTask } from "./compute.ts";

/**
 * Worker threads at most: chunks run in parallel up to this many; more wait
 * in their lanes. Two, because the reference machine has two cores and the
 * engine and event loop need some.
 */
export const COMPUTE_POOL_SIZE = 2;
/** How long an idle thread is kept before it exits. */
export const COMPUTE_THREAD_IDLE_MS = 30_000;
/** The lane of jobs that name no owner (sent straight to a worker by the server, e.g. in tests). */
export const UNOWNED_LANE = "";

/**
 * Lanes served in turn, one item per turn. Pure bookkeeping (no threads),
 * so the order it serves can be tested on its own.
 */
export class RoundRobinLanes<T> {
	/** Non-empty lanes in serving order: a Map iterates in insertion order, and a served lane is re-inserted at the end. */
	readonly #lanes = new Map<string, T[]>();

	push(lane: string, item: T): void {
		const queue = this.#lanes.get(lane);
		if (queue) queue.push(item);
		else this.#lanes.set(lane, [item]);
	}

	/** The next lane's oldest item, or undefined when every lane is empty. */
	shift(): T | undefined {
		const first = this.#lanes.entries().next();
		if (first.done) return undefined;
		const [lane, queue] = first.value;
		const item = queue.shift();
		this.#lanes.delete(lane);
		if (queue.length > 0) this.#lanes.set(lane, queue);
		return item;
	}

	/** Items waiting, over all lanes. */
	get size(): number {
		let n = 0;
		for (const queue of this.#lanes.values()) n += queue.length;
		return n;
	}
}

interface Waiting {
	task: ChunkTask;
	resolve: (value: unknown) => void;
	reject: (error: unknown) => void;
}

let pool: Tinypool | undefined;
const waiting = new RoundRobinLanes<Waiting>();
let running = 0;

function computePool(): Tinypool {
	pool ??= new Tinypool({
		filename: new URL("./compute-thread.ts", import.meta.url).href,
		minThreads: 0,
		maxThreads: COMPUTE_POOL_SIZE,
		idleTimeout: COMPUTE_THREAD_IDLE_MS,
	});
	return pool;
}

/** Hands waiting chunks to free threads, one lane at a time. */
function startWaiting(): void {
	while (running < COMPUTE_POOL_SIZE) {
		const next = waiting.shift();
		if (next === undefined) return;
		running++;
		computePool()
			.run(next.task)
			.then(next.resolve, next.reject)
			.finally(() => {
				running--;
				startWaiting();
			});
	}
}

/**
 * Runs `task` on a pool thread, in `lane`'s turn (the job owner's user id).
 * A throw in the task's code rejects with its error.
 */
export function runOnPool<T extends ChunkTask>(task: T, lane: string = UNOWNED_LANE): Promise<ChunkResult<T>> {
	// The thread returns what `runChunkTask(task)` returned, structured-cloned:
	// plain data of exactly this type.
	const result = new Promise<unknown>((resolve, reject) => {
		waiting.push(lane, { task, resolve, reject });
	});
	startWaiting();
	return result as Promise<ChunkResult<T>>;
}
