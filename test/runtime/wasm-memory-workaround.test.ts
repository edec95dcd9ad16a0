// The workaround against a real WebAssembly.Memory: a view made before the
// memory grows is detached by the growth, exactly what crashed the wasm core.
// The import functions below are the bodies wasm-bindgen generated in
// @rivetkit/rivetkit-wasm 2.3.19 (pkg/rivetkit_wasm.js) for these names.

import { describe, expect, test } from "vitest";
import { repairDetachedMemoryViews, VIEW_IMPORTS, type WasmImports } from "../../src/workarounds/wasm-memory.ts";

const PAGE = 65_536;

/** The project's TypeScript lib has no WebAssembly globals; node has them. */
const { Memory } = (
	globalThis as unknown as {
		WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number } };
	}
).WebAssembly;

function generatedImports(): WasmImports {
	const wbg: Record<string, unknown> = {
		[VIEW_IMPORTS.newView]: (a: ArrayBuffer | Uint8Array) => new Uint8Array(a),
		[VIEW_IMPORTS.newViewAt]: (a: ArrayBuffer, b: number, c: number) => new Uint8Array(a, b >>> 0, c >>> 0),
		[VIEW_IMPORTS.set]: (a: Uint8Array, b: Uint8Array, c: number) => a.set(b, c >>> 0),
		[VIEW_IMPORTS.subarray]: (a: Uint8Array, b: number, c: number) => a.subarray(b >>> 0, c >>> 0),
	};
	for (const name of VIEW_IMPORTS.buffer) wbg[name] = (a: { buffer: ArrayBuffer }) => a.buffer;
	for (const name of VIEW_IMPORTS.length) wbg[name] = (a: Uint8Array) => a.length;
	return { wbg };
}

type Fn = (...args: unknown[]) => unknown;
function call(imports: WasmImports, name: string, ...args: unknown[]): unknown {
	const fn = imports.wbg?.[name];
	if (typeof fn !== "function") throw new Error(`no import ${name}`);
	return (fn as Fn)(...args);
}

describe("detached wasm-memory views", () => {
	test("as generated, writing through a view taken before the memory grew throws (the crash)", () => {
		const memory = new Memory({ initial: 1 });
		const imports = generatedImports();
		const view = call(imports, VIEW_IMPORTS.newView, call(imports, VIEW_IMPORTS.buffer[0], memory));
		memory.grow(1);
		expect(() => call(imports, VIEW_IMPORTS.set, view, new Uint8Array([1, 2, 3]), PAGE + 10)).toThrow(
			/detached ArrayBuffer/,
		);
	});

	test("wrapped, the write lands in the current memory at the same offset", () => {
		const memory = new Memory({ initial: 1 });
		const imports = generatedImports();
		expect(repairDetachedMemoryViews(imports, () => memory)).toBe(true);
		const whole = call(imports, VIEW_IMPORTS.newView, call(imports, VIEW_IMPORTS.buffer[1], memory));
		const slice = call(imports, VIEW_IMPORTS.newViewAt, memory.buffer, 100, 4);
		const sub = call(imports, VIEW_IMPORTS.subarray, whole, 200, 204);
		memory.grow(1);
		call(imports, VIEW_IMPORTS.set, whole, new Uint8Array([1, 2, 3]), PAGE + 10);
		call(imports, VIEW_IMPORTS.set, slice, new Uint8Array([4, 5]), 1);
		call(imports, VIEW_IMPORTS.set, sub, new Uint8Array([6]), 3);
		const now = new Uint8Array(memory.buffer);
		expect([...now.subarray(PAGE + 10, PAGE + 13)]).toEqual([1, 2, 3]);
		expect([...now.subarray(100, 104)]).toEqual([0, 4, 5, 0]);
		expect(now[203]).toBe(6);
		// A copy of a stale view, its length, and a view of the stale buffer itself.
		now.set([9, 8, 7, 6], 100);
		expect([...(call(imports, VIEW_IMPORTS.newView, slice) as Uint8Array)]).toEqual([9, 8, 7, 6]);
		expect(call(imports, VIEW_IMPORTS.length[0], whole)).toBe(2 * PAGE);
	});

	test("buffers that are not the memory's pass through untouched, detached or not", () => {
		const memory = new Memory({ initial: 1 });
		const imports = generatedImports();
		repairDetachedMemoryViews(imports, () => memory);
		const other = new ArrayBuffer(8);
		const view = call(imports, VIEW_IMPORTS.newView, other) as Uint8Array;
		call(imports, VIEW_IMPORTS.set, view, new Uint8Array([1]), 0);
		expect(new Uint8Array(other)[0]).toBe(1);
		const moved = structuredClone(other, { transfer: [other] });
		expect(moved.byteLength).toBe(8);
		expect(() => call(imports, VIEW_IMPORTS.set, view, new Uint8Array([1]), 0)).toThrow(/detached ArrayBuffer/);
	});

	test("a build without these imports is left alone", () => {
		const imports: WasmImports = { wbg: { [VIEW_IMPORTS.set]: () => undefined } };
		const before = imports.wbg?.[VIEW_IMPORTS.set];
		expect(repairDetachedMemoryViews(imports, () => undefined)).toBe(false);
		expect(imports.wbg?.[VIEW_IMPORTS.set]).toBe(before);
	});
});
