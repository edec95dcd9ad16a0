// The jobs family parses its own settings (a pure function, fed records here);
// the server's boot check and the worker's first step both go through it.

import { describe, expect, test } from "vitest";
import { parseJobsSettings } from "../../../src/actors/jobs/settings.ts";

describe("jobs settings", () => {
	test("the step ledger is off unless WORKER_STEP_LEDGER names a file", () => {
		expect(parseJobsSettings({})).toEqual({ workerStepLedger: undefined });
		expect(parseJobsSettings({ WORKER_STEP_LEDGER: "" })).toEqual({ workerStepLedger: undefined });
		expect(parseJobsSettings({ WORKER_STEP_LEDGER: "/tmp/ledger.log" })).toEqual({
			workerStepLedger: "/tmp/ledger.log",
		});
	});
});
