// Which rivetkit core runs the actors in this server: `FLEET_RUNTIME`.
//
// - `native` (the default): rivetkit's Rust core as a Node add-on. Actors keep
//   their SQLite databases in the app server's process.
// lab:start (the README's lab removal block deletes these lines)
// - `wasm`, the reliability lab's experiment: the same core compiled to
//   WebAssembly, talking to the engine over JavaScript WebSockets. Every
//   SQLite query is a round trip to the engine ("remote SQLite"), and
//   rivetkit marks the runtime experimental. The lab's wasm parity run
//   (`npx vitest run --project wasm`) runs the actor tests on it; its loader
//   and repairs are src/workarounds/wasm-core.ts and wasm-*.ts.
// lab:end
//
// On native, the core's own connection to the engine lacks TCP_NODELAY, and
// each one-at-a-time reply would wait out a 40 ms delayed ACK;
// src/workarounds/envoy-nodelay.ts sets it (`FLEET_ENVOY_NODELAY=off` does not).
// lab:start (the README's lab removal block deletes these lines)
// docs/performance.md has the measured comparison and the rule that chose the
// default.
// lab:end
//
// Nothing happens on import: `src/server.ts` calls `prepareRuntime()` once,
// before the first request reaches `registry.handler()` (rivetkit reads its
// runtime setting and loads its core on that request).

import { z } from "zod";
import { exitOnInvalidSettings, parseSettings, SettingsError } from "./settings.ts";
import { applyRuntimeWorkarounds } from "./workarounds/runtime.ts";

/** What `FLEET_RUNTIME` accepts. */
export const RUNTIMES = [
	"native",
	// lab:start (the README's lab removal block deletes these lines)
	"wasm",
	// lab:end
] as const;
export type Runtime = (typeof RUNTIMES)[number];

// lab:start (the README's lab removal block deletes these lines)
// The rule and the runs behind this default are in docs/performance.md.
// lab:end
/** What `FLEET_RUNTIME` defaults to. */
export const DEFAULT_RUNTIME: Runtime = "native";

const schema = z.object({
	FLEET_RUNTIME: z
		.enum(RUNTIMES, { error: (issue) => `must be ${RUNTIMES.join(" or ")} (got ${JSON.stringify(issue.input)})` })
		.default(DEFAULT_RUNTIME),
	/** rivetkit's own variable; this server sets it from `FLEET_RUNTIME`, so a different value is a mistake. */
	RIVETKIT_RUNTIME: z.string().optional(),
	/**
	 * `on` (the default) sets TCP_NODELAY on the native core's engine
	 * connection (src/workarounds/envoy-nodelay.ts): one-at-a-time calls about
	 * 7× faster. `off` is there to measure the difference.
	 */
	FLEET_ENVOY_NODELAY: z.enum(["on", "off"]).default("on"),
});

/** Parses the runtime setting. Pure, so tests can feed it any record. */
export function parseRuntime(source: Record<string, string | undefined>): Runtime {
	return parseRuntimeSettings(source).runtime;
}

function parseRuntimeSettings(source: Record<string, string | undefined>): { runtime: Runtime; envoyNoDelay: boolean } {
	const {
		FLEET_RUNTIME: runtime,
		RIVETKIT_RUNTIME: rivetkit,
		FLEET_ENVOY_NODELAY: envoyNoDelay,
	} = parseSettings(schema, source);
	if (rivetkit !== undefined && rivetkit !== runtime) {
		throw new SettingsError([
			`  RIVETKIT_RUNTIME: is ${JSON.stringify(rivetkit)} but FLEET_RUNTIME selects ${runtime}; set FLEET_RUNTIME only`,
		]);
	}
	return { runtime, envoyNoDelay: envoyNoDelay === "on" };
}

/**
 * Reads `FLEET_RUNTIME` and prepares this process for it: tells rivetkit
 * (`RIVETKIT_RUNTIME`), then applies rivetkit 2.3.19's runtime workarounds
 * (src/workarounds/README.md). An invalid value stops the process, like
 * every other invalid setting.
 */
export async function prepareRuntime(env: Record<string, string | undefined> = process.env): Promise<Runtime> {
	const { runtime, envoyNoDelay } = exitOnInvalidSettings(() => parseRuntimeSettings(env));
	env.RIVETKIT_RUNTIME = runtime;
	await applyRuntimeWorkarounds(runtime, { envoyNoDelay });
	console.log(`actor-fleet: actors run on the ${runtime} runtime (FLEET_RUNTIME)`);
	return runtime;
}
