// The stop-save workaround (src/workarounds/wasm-stop-save.ts) on its own:
// which saves it leaves alone and which it ends. That it un-wedges a real
// stop on the wasm runtime is shown by the worker's test "a wake right after
// sleeping finds the worker" in the wasm parity run.

import { describe, expect, test } from "vitest";
import {
	STOP_SAVE_METHOD,
	StopSaveUnansweredError,
	settleAfterStop,
	settleSavesOnStop,
} from "../../src/workarounds/wasm-stop-save.ts";

/** A deadline short enough for a test; the real one is STOP_SAVE_DEADLINE_MS. */
const DEADLINE_MS = 50;
const never = () => new Promise<never>(() => {});

describe("a save once its actor stops", () => {
	test("an answered save passes through, before and after the stop began", async () => {
		const stop = new AbortController();
		await expect(settleAfterStop(Promise.resolve("saved"), stop.signal, DEADLINE_MS)).resolves.toBe("saved");
		stop.abort();
		await expect(settleAfterStop(Promise.resolve("saved"), stop.signal, DEADLINE_MS)).resolves.toBe("saved");
		const failure = new Error("kv failed");
		await expect(settleAfterStop(Promise.reject(failure), stop.signal, DEADLINE_MS)).rejects.toBe(failure);
	});

	test("an unanswered save is rejected once the stop began, never before", async () => {
		const stop = new AbortController();
		let settled = false;
		const save = settleAfterStop(never(), stop.signal, DEADLINE_MS).finally(() => {
			settled = true;
		});
		save.catch(() => {});
		// Still running: nothing stops a save while the actor is awake. Polled
		// against a second save that is answered, so no fixed wait.
		await settleAfterStop(Promise.resolve(), stop.signal, DEADLINE_MS);
		expect(settled).toBe(false);
		stop.abort();
		await expect(save).rejects.toBeInstanceOf(StopSaveUnansweredError);
	});

	test("the ActorContext method is wrapped; a class without it is left alone", async () => {
		const stop = new AbortController();
		class ActorContext {
			calls: unknown[] = [];
			abortSignal() {
				return stop.signal;
			}
			saveStateAndWorkflowBatch(writes: unknown): Promise<void> {
				this.calls.push(writes);
				return Promise.resolve();
			}
		}
		expect(settleSavesOnStop(ActorContext as unknown as { prototype: Record<string, unknown> })).toBe(true);
		const ctx = new ActorContext();
		await expect(ctx.saveStateAndWorkflowBatch(["w"])).resolves.toBeUndefined();
		expect(ctx.calls).toEqual([["w"]]);
		expect(STOP_SAVE_METHOD).toBe("saveStateAndWorkflowBatch");
		expect(settleSavesOnStop({ prototype: {} })).toBe(false);
		expect(settleSavesOnStop(undefined)).toBe(false);
	});
});
