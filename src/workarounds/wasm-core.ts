// WORKAROUND for rivetkit 2.3.19 on the wasm runtime (`FLEET_RUNTIME=wasm`,
// the reliability lab's experiment; native is the product's runtime): the
// wasm core cannot load itself under Node, so this module loads it, and
// applies the wasm-only repairs while it does (wasm-memory.ts,
// wasm-action-names.ts, wasm-schedule.ts, wasm-stop-save.ts). runtime.ts
// (here) calls `loadWasmCore()` for the wasm runtime only; the README's lab
// removal block deletes this file, those four and that call.
//
// Remove this file, with the four and the call, when rivetkit loads its wasm
// core under Node and the four repairs are no longer needed (each file says
// how to tell).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { refuseInheritedActionNames } from "./wasm-action-names.ts";
import { repairDetachedMemoryViews, type WasmImports } from "./wasm-memory.ts";
import { repairScheduleArgs, type ScheduleClass } from "./wasm-schedule.ts";
import { type ActorContextClass, settleSavesOnStop } from "./wasm-stop-save.ts";

/** What this module uses of the wasm bindings: wasm-bindgen's synchronous initializer, and the classes the schedule and stop-save workarounds wrap. */
interface WasmBindings {
	initSync(input: { module: Uint8Array }): unknown;
	Schedule?: ScheduleClass;
	ActorContext?: ActorContextClass;
}

/** The part of the WebAssembly API the wasm core's initialization goes through. */
interface WasmInstanceApi {
	Instance: new (module: unknown, imports: WasmImports) => { exports: Record<string, unknown> };
}

/**
 * WORKAROUND: loads rivetkit's wasm core from its own package, resolved from
 * rivetkit's folder so it is the very module instance rivetkit imports
 * later. Node's `fetch` cannot read the `file://` URL wasm-bindgen would
 * fetch by default, so the bytes are read here and handed over; once
 * initialized, rivetkit's own initialization call returns at once.
 *
 * wasm-bindgen builds the core's import object inside `initSync` and hands it
 * to `new WebAssembly.Instance`; for the length of that one synchronous call
 * the constructor is wrapped so the detached-memory workaround
 * (wasm-memory.ts) can wrap a few of those imports, and the action-names
 * workaround (wasm-action-names.ts) can wrap the export that makes each
 * actor factory. The schedule workaround (wasm-schedule.ts) wraps
 * two methods of the bindings' `Schedule` class, and the stop-save
 * workaround (wasm-stop-save.ts) one of its `ActorContext` class.
 */
export async function loadWasmCore(): Promise<void> {
	const fromRivetkit = createRequire(import.meta.resolve("rivetkit"));
	const bindingsPath = fromRivetkit.resolve("@rivetkit/rivetkit-wasm");
	const wasmPath = fromRivetkit.resolve("@rivetkit/rivetkit-wasm/rivetkit_wasm_bg.wasm");
	const bindings = (await import(pathToFileURL(bindingsPath).href)) as WasmBindings;
	const api = (globalThis as unknown as { WebAssembly: WasmInstanceApi }).WebAssembly;
	const RealInstance = api.Instance;
	let memory: { buffer: ArrayBuffer } | undefined;
	let repaired = false;
	let actionsGuarded = false;
	api.Instance = function wrappedInstance(module: unknown, imports: WasmImports) {
		repaired = repairDetachedMemoryViews(imports, () => memory);
		const instance = new RealInstance(module, imports);
		memory = instance.exports.memory as { buffer: ArrayBuffer };
		const exports = refuseInheritedActionNames(instance.exports);
		actionsGuarded = exports !== undefined;
		// wasm-bindgen keeps only `instance.exports`, so an object carrying the
		// wrapped exports stands in for the instance.
		return exports === undefined ? instance : { exports };
	} as unknown as WasmInstanceApi["Instance"];
	try {
		bindings.initSync({ module: readFileSync(wasmPath) });
	} finally {
		api.Instance = RealInstance;
	}
	if (!repaired) {
		console.warn(
			"actor-fleet: this rivetkit-wasm build lacks the functions src/workarounds/wasm-memory.ts wraps; running without that workaround",
		);
	}
	if (!actionsGuarded) {
		console.warn(
			"actor-fleet: this rivetkit-wasm build lacks the export src/workarounds/wasm-action-names.ts wraps; running without that workaround",
		);
	}
	if (!settleSavesOnStop(bindings.ActorContext)) {
		console.warn(
			"actor-fleet: this rivetkit-wasm build lacks the ActorContext method src/workarounds/wasm-stop-save.ts wraps; running without that workaround",
		);
	}
	if (!repairScheduleArgs(bindings.Schedule)) {
		console.warn(
			"actor-fleet: this rivetkit-wasm build lacks the Schedule methods src/workarounds/wasm-schedule.ts wraps; running without that workaround",
		);
	}
}
