// The build's identity, written by `npm run build` into `dist/build-info.json`.
//
// The runner version must grow with every deploy so the engine drains actors
// from old servers onto new ones. It is fixed when the build is made (CI run
// number, commit count, or the build's timestamp), never at start-up: two
// servers started from the same build must report the same version.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const BUILD_INFO_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/build-info.json");

export const buildInfoSchema = z.object({
	runnerVersion: z.int().positive(),
	/** Where the version came from: an env variable, `git`, or `timestamp`. */
	source: z.string(),
	commit: z.string().nullable(),
	builtAt: z.string(),
});

export type BuildInfo = z.infer<typeof buildInfoSchema>;

/** The build info, or `undefined` when running from an unbuilt checkout. */
export function readBuildInfo(file = BUILD_INFO_FILE): BuildInfo | undefined {
	if (!existsSync(file)) return undefined;
	return buildInfoSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}
