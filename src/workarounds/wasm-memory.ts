// WORKAROUND for a rivetkit-wasm 2.3.19 bug: the wasm app server crashes now
// and then with an uncaught
// `TypeError: Cannot perform %TypedArray%.prototype.set on a detached ArrayBuffer`
// (or `… Construct on a detached ArrayBuffer`), thrown from the wasm core
// while it handles a message of its envoy WebSocket.
//
// What was observed (instrumented server; the tools and numbers were in the
// lab's performance page): the detached buffer is the wasm core's own memory.
// The core makes a JavaScript `Uint8Array` over `memory.buffer` (the way
// wasm-bindgen copies bytes between JavaScript and wasm), an allocation then
// grows the wasm memory, which detaches every view of the old buffer, and the
// core still writes through the old view: in one capture a 3,276,800-byte
// memory view, detached, receiving 83 message bytes at offset 2,983,792. The
// server died of it in 4 of 13 runs of three test files before this
// workaround, and in none of the runs since.
//
// Upstreamable fix (rivetkit-wasm): take the view of `memory.buffer` after the
// last allocation before each copy (never keep one across an allocation).
//
// Until then, this module wraps the few JavaScript functions the core calls
// to make and use such views (wasm-bindgen imports, named by hash in
// `@rivetkit/rivetkit-wasm/pkg/rivetkit_wasm.js` 2.3.19): a view of the
// memory that is found detached is made again, same offset, over the current
// memory, which is what the core meant to address. Nothing else changes: a
// live view, or any buffer that is not the core's memory, is passed through
// untouched. If the names are absent (another rivetkit version) nothing is
// wrapped and one warning says so.
//
// Remove this file, and its use in `wasm-core.ts` (here), when rivetkit-wasm
// ships the fix (the wasm parity suite, `npx vitest run --project wasm`, run
// a few times without it shows whether).

/** wasm-bindgen's import object: module name → function name → function. */
export type WasmImports = Record<string, Record<string, unknown>>;

/** The imports (rivetkit-wasm 2.3.19) that make, measure or write through views of wasm memory. */
export const VIEW_IMPORTS = {
	/** `arg0.buffer` (of a `WebAssembly.Memory` or a typed array). */
	buffer: ["__wbg_buffer_09165b52af8c5237", "__wbg_buffer_609cc3eee51ed158"],
	/** `new Uint8Array(arg0)`. */
	newView: "__wbg_new_a12002a7f91c75be",
	/** `new Uint8Array(arg0, arg1, arg2)`. */
	newViewAt: "__wbg_newwithbyteoffsetandlength_d97e637ebe145a9a",
	/** `arg0.set(arg1, arg2)`. */
	set: "__wbg_set_65595bdd868b3009",
	/** `arg0.subarray(arg1, arg2)`. */
	subarray: "__wbg_subarray_aa9065fa9dc5df96",
	/** `arg0.length`. */
	length: ["__wbg_length_a446193dc22c12f8", "__wbg_length_e2d2a49132c1b256"],
} as const;

/** Where a view sits in wasm memory; `length` undefined means "to the end" (a view of all of it). */
interface Placement {
	offset: number;
	length: number | undefined;
}

type Fn = (...args: unknown[]) => unknown;

/** `ArrayBuffer.prototype.detached` (Node 22; the project's TypeScript lib predates it). */
function isDetached(buffer: ArrayBufferLike): boolean {
	return (buffer as { detached?: boolean }).detached === true;
}

/**
 * Wraps the view imports in `imports.wbg` so that views of `memory()`'s
 * buffer that a growth detached are made again over the current buffer.
 * `memory` returns the instance's memory once it exists. Returns false (and
 * wraps nothing) when any of the imports is missing.
 */
export function repairDetachedMemoryViews(
	imports: WasmImports,
	memory: () => { buffer: ArrayBuffer } | undefined,
): boolean {
	const wbg = imports.wbg;
	const names = Object.values(VIEW_IMPORTS).flat();
	if (wbg === undefined || names.some((name) => typeof wbg[name] !== "function")) return false;
	/** Every buffer the memory has had; detached ones are recognized by this. */
	const memoryBuffers = new WeakSet<ArrayBuffer>();
	const placements = new WeakMap<Uint8Array, Placement>();

	const current = (): ArrayBuffer | undefined => {
		const buffer = memory()?.buffer;
		if (buffer !== undefined) memoryBuffers.add(buffer);
		return buffer;
	};
	const isMemoryBuffer = (value: unknown): value is ArrayBuffer =>
		value instanceof ArrayBuffer && (memoryBuffers.has(value) || value === current());
	/** A detached view of an old memory buffer, made again over the current one. */
	const live = (value: unknown): unknown => {
		if (!(value instanceof Uint8Array) || !isDetached(value.buffer)) return value;
		const placement = placements.get(value);
		const buffer = current();
		if (placement === undefined || buffer === undefined) return value;
		const view = new Uint8Array(buffer, placement.offset, placement.length);
		placements.set(view, placement);
		return view;
	};
	const wrap = (name: string, make: (original: Fn) => Fn) => {
		wbg[name] = make(wbg[name] as Fn);
	};

	for (const name of VIEW_IMPORTS.buffer) {
		wrap(name, (original) => (target) => {
			const result = original(live(target));
			if (result instanceof ArrayBuffer && result === memory()?.buffer) memoryBuffers.add(result);
			return result;
		});
	}
	wrap(VIEW_IMPORTS.newView, (original) => (source) => {
		// A copy of a view (`new Uint8Array(view)`), or a view of a whole buffer.
		if (!isMemoryBuffer(source)) return original(live(source));
		const view = original(isDetached(source) ? current() : source) as Uint8Array;
		placements.set(view, { offset: 0, length: undefined });
		return view;
	});
	wrap(VIEW_IMPORTS.newViewAt, (original) => (source, offset, length) => {
		if (!isMemoryBuffer(source)) return original(source, offset, length);
		const view = original(isDetached(source) ? current() : source, offset, length) as Uint8Array;
		placements.set(view, { offset: view.byteOffset, length: view.length });
		return view;
	});
	wrap(VIEW_IMPORTS.set, (original) => (target, source, offset) => original(live(target), live(source), offset));
	wrap(VIEW_IMPORTS.subarray, (original) => (target, begin, end) => {
		const parent = live(target);
		const view = original(parent, begin, end) as Uint8Array;
		if (parent instanceof Uint8Array && placements.has(parent)) {
			placements.set(view, { offset: view.byteOffset, length: view.length });
		}
		return view;
	});
	for (const name of VIEW_IMPORTS.length) wrap(name, (original) => (target) => original(live(target)));
	return true;
}
