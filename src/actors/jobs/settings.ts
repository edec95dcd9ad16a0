// The jobs family's settings, read from the server's environment.
//
// Read on first use (inside a workflow step), never when the module is
// imported: the registry must be importable by scripts, tests and bundlers
// without touching or validating the environment. `src/server.ts` calls
// `jobsSettings()` at boot through `checkActorSettings()` (src/registry.ts),
// so a bad value still stops the server at start-up.

import { z } from "zod";
import { parseSettings } from "../../settings.ts";

const schema = z.object({
	/** Optional file the worker appends every step execution to (see `./ledger.ts`). */
	WORKER_STEP_LEDGER: z.string().trim().min(1).optional(),
});

export interface JobsSettings {
	workerStepLedger: string | undefined;
}

/** Parses the settings from `source`. Pure, so tests can feed it any record. */
export function parseJobsSettings(source: Record<string, string | undefined>): JobsSettings {
	return { workerStepLedger: parseSettings(schema, source).WORKER_STEP_LEDGER };
}

let cached: JobsSettings | undefined;

/** The settings from `process.env`, parsed once on first use. */
export function jobsSettings(): JobsSettings {
	cached ??= parseJobsSettings(process.env);
	return cached;
}
