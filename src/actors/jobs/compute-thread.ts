// The worker-thread entry point of the compute pool (`./compute-pool.ts`):
// runs one chunk task and returns its plain-data result. Nothing else runs
// here: no Rivet, no state, no I/O.

import { type ChunkTask, runChunkTask } from "./compute.ts";

export default function runTask(task: ChunkTask): ReturnType<typeof runChunkTask> {
	return runChunkTask(task);
}
