// What a fault test injected and what it found. Each test file keeps its own
// counts and writes them when it finishes; the global teardown sums them.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, inject } from "vitest";

export interface FaultCounts {
	/** Processes killed or stopped on purpose (kill -9, SIGTERM, engine kills). */
	injected: number;
	/** Hostile requests sent (bad input, bad credentials). */
	hostile: number;
	/** Acknowledged effects missing afterwards. */
	lost: number;
	/** Effects applied more than once. */
	duplicated: number;
	/** Calls refused because the caller may not make them (the authorization matrix). */
	unauthorized: number;
	/** Of those, calls after which the actor's data differed. */
	changedState: number;
	/** Faults injected under a live browser page (test/faults/browser.test.ts). */
	browser?: BrowserFaultCounts;
	/** Another user's latency during abuse ÷ idle (test/faults/abuse.test.ts). */
	abuse?: AbuseFigures;
}

/** Ratios of one run: the p-th percentile during the abuse divided by the same percentile idle. */
export interface AbuseFigures {
	batchP50: number;
	batchP99: number;
	counterP50: number;
	counterP99: number;
}

/** What a person saw: clicks and messages across faults, and how long the page took to be live again. */
export interface BrowserFaultCounts {
	injected: number;
	/** Per fault: milliseconds from the restore until every panel was live. */
	recoveriesMs: number[];
	/** Clicks the actor never applied. */
	lost: number;
	/** Clicks the actor applied more than once. */
	duplicated: number;
}

/** Counts for the calling test file, saved after its last test. */
export function faultCounts(name: string): FaultCounts {
	const counts: FaultCounts = { injected: 0, hostile: 0, lost: 0, duplicated: 0, unauthorized: 0, changedState: 0 };
	afterAll(() => {
		writeFileSync(path.join(inject("countersDir"), `${name}.json`), JSON.stringify(counts));
	});
	return counts;
}
