// WORKAROUND for a rivetkit-wasm 2.3.19 bug: on the wasm runtime,
// `c.schedule.get(id)` throws whenever the scheduled event exists, and
// `c.schedule.list()` throws whenever any event is pending.
//
// What was measured (2026-12-06, the issue behind this file; again by the
// example coordinator's test "a running batch survives the coordinator
// sleeping" in the wasm parity run): the wasm core's
// `Schedule.get` and `Schedule.list` return each event's CBOR-encoded `args`
// as a plain JavaScript Array of numbers instead of a `Uint8Array`, and
// rivetkit decodes them with cbor-x, which accepts bytes only:
// `Source must be a Uint8Array or Buffer but was a Array`. The example worker
// and coordinator called `schedule.get` in `onWake` whenever a watchdog or a sweep
// is recorded (after every crash, and when a running batch wakes), so their
// wakes failed, rivetkit logged nothing, and the actors stayed asleep with
// their jobs queued. Ten fault tests failed on wasm before this workaround.
//
// Upstream report (rivet-dev/rivet, rivetkit-wasm; not filed from here):
//
//   Title: rivetkit-wasm: `schedule.get`/`schedule.list` return `args` as an
//   Array, so `c.schedule.get(id)` throws on the wasm runtime
//
//   rivetkit 2.3.19, `RIVETKIT_RUNTIME=wasm`, Node 22. In an action,
//   `const id = await c.schedule.after(60_000, "tick", 1);
//   await c.schedule.get(id)` throws `Source must be a Uint8Array or Buffer
//   but was a Array` (same for `c.schedule.list()` with one event pending).
//   The napi runtime returns the same call's `args` as a Buffer and works.
//   `Schedule::get`/`list` in rivetkit-wasm serialize the event with
//   serde-wasm-bindgen, which turns `Vec<u8>` into an Array unless the field
//   is marked `#[serde(with = "serde_bytes")]` (or the value is built as a
//   `js_sys::Uint8Array`); `NativeScheduleAdapter.get` then hands that Array
//   to `decodeCborCompat`. Expected: `args` is a `Uint8Array`, as the
//   `RuntimeScheduledEventInfo` type says.
//
// Until then, this module wraps `Schedule.prototype.get` and `list` of the
// wasm bindings (the very module instance rivetkit uses; wasm-core.ts
// loads it) so that an `args` Array of bytes becomes a `Uint8Array` with the
// same bytes before rivetkit sees it. Anything else passes through
// untouched. If the class or the methods are absent (another rivetkit
// version), nothing is wrapped and wasm-core.ts warns once.
//
// Remove this file, and its use in `wasm-core.ts` (here), when rivetkit-wasm
// returns bytes: the wasm parity run then passes without it.

/** The wasm bindings' `Schedule` class, as far as this workaround touches it. */
export interface ScheduleClass {
	prototype: Record<string, unknown>;
}

/** The `Schedule` methods whose answers carry `args` (rivetkit-wasm 2.3.19). */
export const SCHEDULE_READS = ["get", "list"] as const;

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** An Array of byte values (what serde-wasm-bindgen makes of a `Vec<u8>`). */
function isByteArray(value: unknown): value is number[] {
	return Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
}

/** One scheduled event with its `args` as bytes; any other value is returned as it is. */
export function eventWithByteArgs(event: unknown): unknown {
	if (typeof event !== "object" || event === null || !("args" in event)) return event;
	const args = (event as { args: unknown }).args;
	if (!isByteArray(args)) return event;
	return { ...event, args: Uint8Array.from(args) };
}

/**
 * Wraps `Schedule.prototype.get` and `list` so the events they resolve to
 * carry `args` as a `Uint8Array`. Returns false (and wraps nothing) when the
 * class or either method is missing.
 */
export function repairScheduleArgs(schedule: ScheduleClass | undefined): boolean {
	const proto = schedule?.prototype;
	if (proto === undefined || SCHEDULE_READS.some((name) => typeof proto[name] !== "function")) return false;
	const get = proto.get as Fn;
	const list = proto.list as Fn;
	proto.get = async function get_(this: unknown, ...args: unknown[]) {
		return eventWithByteArgs(await get.apply(this, args));
	};
	proto.list = async function list_(this: unknown, ...args: unknown[]) {
		const events = await list.apply(this, args);
		return Array.isArray(events) ? events.map(eventWithByteArgs) : events;
	};
	return true;
}
