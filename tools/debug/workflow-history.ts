// The workflow history the inspector returns, and a readable view of it.
//
// The inspector serves a workflow's history as recorded: a registry of entry
// names, and entries whose location is a list of indexes into that registry
// with loop-iteration markers in between. `describeWorkflowHistory` turns it
// into one row per entry with a path such as `jobs[2]/store`, in the order
// the entries ran.

import { z } from "zod";

const locationSegmentSchema = z.union([
	z.looseObject({ tag: z.literal("WorkflowNameIndex"), val: z.number() }),
	z.looseObject({
		tag: z.literal("WorkflowLoopIterationMarker"),
		val: z.looseObject({ loop: z.number(), iteration: z.number() }),
	}),
]);

const entryMetadataSchema = z.looseObject({
	status: z.string(),
	error: z.string().nullable(),
	attempts: z.number(),
	createdAt: z.number(),
	completedAt: z.number().nullable(),
});

export const workflowHistorySchema = z.looseObject({
	nameRegistry: z.array(z.string()),
	entries: z.array(
		z.looseObject({
			id: z.string(),
			location: z.array(locationSegmentSchema),
			kind: z.looseObject({ tag: z.string(), val: z.unknown() }),
		}),
	),
	entryMetadata: z.record(z.string(), entryMetadataSchema),
});
export type WorkflowHistory = z.infer<typeof workflowHistorySchema>;

export interface WorkflowEntryView {
	id: string;
	/** e.g. `job-loop[2]/process`: names from the root, loop iterations in brackets. */
	path: string;
	/** The entry's own name (the last part of `path`). */
	name: string;
	/** `step`, `loop`, `sleep`, `message`, `join`, `race`, ... */
	kind: string;
	/** From the entry's metadata; message entries have none. */
	status: string | null;
	attempts: number | null;
	error: string | null;
}

/**
 * Flattens the inspector's history into one row per entry with readable
 * names, in execution order. Each entry's location is a list of indexes into
 * `nameRegistry` with loop-iteration markers in between; names are registered
 * as the workflow first reaches them, so ordering by location (iteration by
 * iteration) is the order the entries ran in. The inspector itself lists
 * them in storage order.
 */
export function describeWorkflowHistory(history: WorkflowHistory): WorkflowEntryView[] {
	const sorted = [...history.entries].sort((a, b) => compareLocations(a.location, b.location));
	return sorted.map((entry) => {
		const parts: string[] = [];
		for (const segment of entry.location) {
			if (segment.tag === "WorkflowNameIndex") {
				parts.push(history.nameRegistry[segment.val] ?? `#${segment.val}`);
			} else if (parts.length > 0) {
				parts[parts.length - 1] += `[${segment.val.iteration}]`;
			}
		}
		const meta = history.entryMetadata[entry.id];
		return {
			id: entry.id,
			path: parts.join("/"),
			name: parts.at(-1) ?? "",
			kind: kindName(entry.kind.tag),
			status: meta?.status ?? null,
			attempts: meta?.attempts ?? null,
			error: meta?.error ?? null,
		};
	});
}

type Location = WorkflowHistory["entries"][number]["location"];

/** A parent before its children, earlier names and iterations before later ones. */
function compareLocations(a: Location, b: Location): number {
	for (let i = 0; i < Math.min(a.length, b.length); i++) {
		const x = a[i];
		const y = b[i];
		if (!x || !y) break;
		const xKey = x.tag === "WorkflowNameIndex" ? x.val : x.val.iteration;
		const yKey = y.tag === "WorkflowNameIndex" ? y.val : y.val.iteration;
		if (xKey !== yKey) return xKey - yKey;
	}
	return a.length - b.length;
}

function kindName(tag: string): string {
	const bare = tag.replace(/^Workflow/, "").replace(/Entry$/, "");
	return bare.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}
