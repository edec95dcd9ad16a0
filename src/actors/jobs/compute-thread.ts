// The worker-thread entry point of the compute pool (`./compute-pool.ts`):
// runs one chunk task and returns its plain-data result. Nothing else runs
// here: no Rivet, no state, no I/O.

import { setPriority } from "node:os";
import { type ChunkTask, runChunkTask } from "./compute.ts";

/**
 * The nice value of compute threads (0 is normal, 19 the lowest priority).
 * Chunks are background work: when the CPU is short, the event loop that
 * answers every actor's calls (and the engine, on the same machine) should
 * run first, and a chunk a little later. On Linux a nice value belongs to
 * one thread, so this lowers only the thread that sets it (checked with
 * /proc/self/task/<tid>/stat on Node 20, 2026-12-06); elsewhere the
 * operating system may apply it to the whole process or map it to a
 * priority class.
 */
export const COMPUTE_THREAD_NICE = 10;

try {
	setPriority(COMPUTE_THREAD_NICE);
} catch {
	// Not allowed here (a sandbox, an unusual platform): chunks still run, at normal priority.
}

export default function runTask(task: ChunkTask): ReturnType<typeof runChunkTask> {
	return runChunkTask(task);
}
