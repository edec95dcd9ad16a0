// The schedule workaround against the real wasm bindings' `Schedule` class
// shape.
// example-actors:start (the README's removal block deletes these lines)
// That the workaround makes a real wake work on the wasm runtime is shown by
// test/actors/jobs/coordinator.test.ts ("a running batch survives the
// coordinator sleeping") in the wasm parity run.
// example-actors:end

import { describe, expect, test } from "vitest";
import { eventWithByteArgs, repairScheduleArgs } from "../../src/workarounds/wasm-schedule.ts";

/** What rivetkit-wasm 2.3.19's `Schedule.get`/`list` resolve to: `args` as an Array of byte values. */
const asArray = (bytes: Uint8Array): number[] => [...bytes];

describe("schedule args from the wasm core", () => {
	/** CBOR for `["t"]`, the shape rivetkit stores a schedule's arguments in. */
	const args = Uint8Array.from([0x81, 0x61, 0x74]);
	const event = { id: "e1", action: "watchdog", args: asArray(args), runAt: 1 };

	test("an Array of bytes becomes a Uint8Array with the same bytes; the rest is kept", () => {
		const fixed = eventWithByteArgs(event) as { args: Uint8Array };
		expect(fixed).toEqual({ ...event, args: Uint8Array.from(args) });
		expect(fixed.args).toBeInstanceOf(Uint8Array);
	});

	test("bytes, missing events and other values pass through untouched", () => {
		const bytes = { ...event, args };
		expect(eventWithByteArgs(bytes)).toBe(bytes);
		expect(eventWithByteArgs(undefined)).toBeUndefined();
		const notBytes = { ...event, args: [1, 256] };
		expect(eventWithByteArgs(notBytes)).toBe(notBytes);
	});

	test("get and list of a Schedule class are wrapped; a class without them is left alone", async () => {
		class Schedule {
			async get(_id: string) {
				return event;
			}
			async list() {
				return [event, event];
			}
		}
		expect(repairScheduleArgs(Schedule as unknown as { prototype: Record<string, unknown> })).toBe(true);
		const schedule = new Schedule();
		expect((await schedule.get("e1")).args).toEqual(Uint8Array.from(args));
		expect((await schedule.list()).map((e) => e.args)).toEqual([Uint8Array.from(args), Uint8Array.from(args)]);
		expect(repairScheduleArgs({ prototype: { get: () => undefined } })).toBe(false);
		expect(repairScheduleArgs(undefined)).toBe(false);
	});
});
