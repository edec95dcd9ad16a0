// WORKAROUND for a rivetkit 2.3.19 bug: on the wasm runtime, no actor starts.
//
// rivetkit's `buildServeConfig` (dist/tsup/mod.js) always tries
// `import("@rivetkit/engine-cli")` and, since that package is a dependency of
// rivetkit and therefore always installed, sets `engineBinaryPath` in the
// serve config. The wasm core refuses that field on every `/start` from the
// engine ("wasm runtimes cannot spawn an engine binary; omit this field and
// connect to an existing engine endpoint"), so a wasm app server accepts the
// engine's requests and starts nothing. No rivetkit option skips the import.
//
// Upstreamable fix (one line in `buildServeConfig`): resolve the engine binary
// only when the runtime can spawn one, i.e. wrap the `loadEngineCli()` block in
// `if (runtime.kind !== "wasm")`.
//
// Until then, this module hides `@rivetkit/engine-cli` from module resolution
// in the process that calls `hideEngineCli()`: rivetkit then takes its own
// "engine binary not installed" branch (it logs one warning and leaves the
// field out). Only `src/runtime.ts` calls it, only in the app server, and only
// when that server runs on the wasm runtime; the hook works although rivetkit
// is already imported, because the import happens at the first request to
// `registry.handler()`. Measured with it (docs/performance.md): a `.connect()`
// round trip one call at a time 5.1-5.9 ms p50 on wasm against 48 ms on native.
//
// Remove this file, and its call in `src/runtime.ts`, once rivetkit ships the
// fix above: the wasm parity suite (`npx vitest run --config
// vitest.wasm.config.ts`) then passes without it.

import { registerHooks } from "node:module";

/** The package rivetkit 2.3.19 imports to find an engine binary to spawn. */
export const ENGINE_CLI_PACKAGE = "@rivetkit/engine-cli";

let installed = false;

/**
 * Makes `import("@rivetkit/engine-cli")` fail with `ERR_MODULE_NOT_FOUND` in
 * this process from now on, as if the package were not installed. Nothing
 * else resolves differently. Calling it twice installs one hook.
 */
export function hideEngineCli(): void {
	if (installed) return;
	installed = true;
	registerHooks({
		resolve(specifier, context, nextResolve) {
			if (specifier === ENGINE_CLI_PACKAGE || specifier.startsWith(`${ENGINE_CLI_PACKAGE}/`)) {
				const error = new Error(
					`${specifier} is hidden on the wasm runtime (src/runtime-engine-cli-workaround.ts): this server connects to an engine, it never spawns one`,
				);
				Object.assign(error, { code: "ERR_MODULE_NOT_FOUND" });
				throw error;
			}
			return nextResolve(specifier, context);
		},
	});
}
