// Which rivetkit core runs the actors in this server: `FLEET_RUNTIME`.
//
// - `native` (the default): rivetkit's Rust core as a Node add-on. Actors keep
//   their SQLite databases in the app server's process.
// - `wasm`: the same core compiled to WebAssembly, talking to the engine over
//   JavaScript WebSockets. Single calls answer several times faster (its
//   sockets set TCP_NODELAY; the native core's envoy socket does not, and each
//   one-at-a-time reply waits out a 40 ms delayed ACK), but every SQLite query
//   is a round trip to the engine ("remote SQLite"), and rivetkit marks the
//   runtime experimental. docs/performance.md has the measured comparison and
//   the rule that chose the default.
//
// Nothing happens on import: `src/server.ts` calls `prepareRuntime()` once,
// before the first request reaches `registry.handler()` (rivetkit reads its
// runtime setting and loads its core on that request).

import { subscribe } from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { hideEngineCli } from "./runtime-engine-cli-workaround.ts";
import { refuseInheritedActionNames } from "./runtime-wasm-action-names-workaround.ts";
import { repairDetachedMemoryViews, type WasmImports } from "./runtime-wasm-memory-workaround.ts";
import { repairScheduleArgs, type ScheduleClass } from "./runtime-wasm-schedule-workaround.ts";

export const RUNTIMES = ["native", "wasm"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** What `FLEET_RUNTIME` defaults to: the rule and the runs behind it are in docs/performance.md. */
export const DEFAULT_RUNTIME: Runtime = "native";

const schema = z.object({
	FLEET_RUNTIME: z.enum(RUNTIMES).default(DEFAULT_RUNTIME),
	/** rivetkit's own variable; this server sets it from `FLEET_RUNTIME`, so a different value is a mistake. */
	RIVETKIT_RUNTIME: z.string().optional(),
	/** `on`: log a timestamped line when the engine's `/api/rivet/start` request arrives (the bench's cold-start phases). */
	FLEET_DEBUG_TIMINGS: z.enum(["on", "off"]).default("off"),
});

/** The line `FLEET_DEBUG_TIMINGS=on` prints per `/start` request; tools/bench/scenarios/cold-start.ts reads it. */
export const START_TIMING_PREFIX = "fleet-timing: /api/rivet/start request at epoch ms";

export class RuntimeSettingError extends Error {}

/** Parses the runtime setting. Pure, so tests can feed it any record. */
export function parseRuntime(source: Record<string, string | undefined>): Runtime {
	return parseSettings(source).runtime;
}

function parseSettings(source: Record<string, string | undefined>): { runtime: Runtime; debugTimings: boolean } {
	const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
	const result = schema.safeParse(cleaned);
	if (!result.success) {
		throw new RuntimeSettingError(
			result.error.issues
				.map((i) =>
					i.path[0] === "FLEET_RUNTIME"
						? `FLEET_RUNTIME: must be one of ${RUNTIMES.join(", ")} (got ${JSON.stringify(source.FLEET_RUNTIME)})`
						: `${i.path.join(".")}: ${i.message}`,
				)
				.join("; "),
		);
	}
	const { FLEET_RUNTIME: runtime, RIVETKIT_RUNTIME: rivetkit, FLEET_DEBUG_TIMINGS: timings } = result.data;
	if (rivetkit !== undefined && rivetkit !== runtime) {
		throw new RuntimeSettingError(
			`RIVETKIT_RUNTIME: is ${JSON.stringify(rivetkit)} but FLEET_RUNTIME selects ${runtime}; set FLEET_RUNTIME only`,
		);
	}
	return { runtime, debugTimings: timings === "on" };
}

/** What this module uses of the wasm bindings: wasm-bindgen's synchronous initializer, and the class the schedule workaround wraps. */
interface WasmBindings {
	initSync(input: { module: Uint8Array }): unknown;
	Schedule?: ScheduleClass;
}

/** The part of the WebAssembly API the wasm core's initialization goes through. */
interface WasmInstanceApi {
	Instance: new (module: unknown, imports: WasmImports) => { exports: Record<string, unknown> };
}

/**
 * Loads rivetkit's wasm core from its own package, resolved from rivetkit's
 * folder so it is the very module instance rivetkit imports later. Node's
 * `fetch` cannot read the `file://` URL wasm-bindgen would fetch by default,
 * so the bytes are read here and handed over; once initialized, rivetkit's
 * own initialization call returns at once.
 *
 * wasm-bindgen builds the core's import object inside `initSync` and hands it
 * to `new WebAssembly.Instance`; for the length of that one synchronous call
 * the constructor is wrapped so the detached-memory workaround
 * (src/runtime-wasm-memory-workaround.ts) can wrap a few of those imports,
 * and the action-names workaround (src/runtime-wasm-action-names-workaround.ts)
 * can wrap the export that makes each actor factory.
 * The schedule workaround (src/runtime-wasm-schedule-workaround.ts) wraps
 * two methods of the bindings' `Schedule` class.
 */
async function loadWasmCore(): Promise<void> {
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
			"actor-fleet: this rivetkit-wasm build lacks the functions src/runtime-wasm-memory-workaround.ts wraps; running without that workaround",
		);
	}
	if (!actionsGuarded) {
		console.warn(
			"actor-fleet: this rivetkit-wasm build lacks the export src/runtime-wasm-action-names-workaround.ts wraps; running without that workaround",
		);
	}
	if (!repairScheduleArgs(bindings.Schedule)) {
		console.warn(
			"actor-fleet: this rivetkit-wasm build lacks the Schedule methods src/runtime-wasm-schedule-workaround.ts wraps; running without that workaround",
		);
	}
}

/**
 * Reads `FLEET_RUNTIME` and prepares this process for it: tells rivetkit
 * (`RIVETKIT_RUNTIME`), and on wasm loads the core and applies the
 * engine-cli workaround. An invalid value stops the process, like every
 * other invalid setting.
 */
export async function prepareRuntime(env: Record<string, string | undefined> = process.env): Promise<Runtime> {
	let runtime: Runtime;
	let debugTimings: boolean;
	try {
		({ runtime, debugTimings } = parseSettings(env));
	} catch (error) {
		if (!(error instanceof RuntimeSettingError)) throw error;
		console.error(`actor-fleet: invalid environment, not starting:\n  ${error.message}`);
		process.exit(1);
	}
	env.RIVETKIT_RUNTIME = runtime;
	// On both runtimes: with the engine binary resolvable, rivetkit's core
	// spawns an engine of its own whenever the configured one does not
	// answer (src/runtime-engine-cli-workaround.ts).
	hideEngineCli();
	if (runtime === "wasm") await loadWasmCore();
	if (debugTimings) logStartRequests();
	console.log(`actor-fleet: actors run on the ${runtime} runtime (FLEET_RUNTIME)`);
	return runtime;
}

/**
 * Prints when each `/api/rivet/start` request reaches this process, before
 * any route runs: Node's HTTP server announces every request on this
 * diagnostics channel, so no route or middleware changes.
 */
function logStartRequests(): void {
	subscribe("http.server.request.start", (message) => {
		const url = (message as { request?: IncomingMessage }).request?.url ?? "";
		if (url.startsWith("/api/rivet/start")) console.log(`${START_TIMING_PREFIX} ${Date.now()}`);
	});
}
