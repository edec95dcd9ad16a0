// src/workarounds/wake-failure-log.ts: a wake that throws is logged once and
// fails as before (the error is the one that led to it; any would do).

import { describe, expect, test } from "vitest";
import { logWakeFailure, WAKE_FAILURE_MESSAGE } from "../../src/workarounds/wake-failure-log.ts";

describe("a failing onWake", () => {
	test("logs one error line and fails the wake with the same error", async () => {
		const lines: Array<Record<string, unknown>> = [];
		const c = { log: { error: (fields: Record<string, unknown>) => lines.push(fields) } };
		const error = new TypeError("Source must be a Uint8Array or Buffer but was a Array");
		await expect(
			logWakeFailure(c, async () => {
				throw error;
			}),
		).rejects.toBe(error);
		expect(lines).toEqual([{ msg: WAKE_FAILURE_MESSAGE, error: `TypeError: ${error.message}` }]);
	});

	test("a wake that succeeds logs nothing", async () => {
		const lines: unknown[] = [];
		await logWakeFailure({ log: { error: (fields) => lines.push(fields) } }, async () => {});
		expect(lines).toEqual([]);
	});
});
