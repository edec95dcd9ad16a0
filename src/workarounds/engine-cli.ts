// WORKAROUND for a rivetkit 2.3.19 bug: rivetkit always hands its core the
// path of the npm-installed engine binary, so on the native runtime the app
// server spawns an engine of its own.
// lab:start (the README's lab removal block deletes these lines)
// The same cause keeps every actor from starting on the reliability lab's
// wasm runtime (below).
// lab:end
//
// In serverless mode (`registry.handler()`, what this server uses) the core
// starts an engine process manager whenever it is given an engine binary
// path, whatever `RIVETKIT_ENGINE_SPAWN` says (that variable is read only by
// the serverful `registry.start()` path). The manager reuses an engine that
// answers `/health` on `RIVET_ENDPOINT`; when none answers (an engine still
// starting, or shutting down) it spawns one, detached and never stopped, with
// its data in `$HOME/.rivetkit/var/engine/db` instead of the project's data
// dir. Seen once with `npm start` (an engine running with the app server's
// environment, outliving Ctrl-C); reproduced by
// test/runtime/engine-cli-workaround.test.ts: with no engine on the endpoint,
// the server created `$HOME/.rivetkit/var/engine` and waited for an engine of
// its own ("Engine health check failed after 14 attempts"). With the binary
// hidden, the same request fails with `engine.binary_unavailable` and nothing
// is spawned; with a healthy engine on the endpoint, nothing changes
// (measured: the counter suite on native passes with it).
//
// Upstream report (rivet-dev/rivet, rivetkit-core; not filed from here):
// "`CoreServerlessRuntime::new` starts `EngineProcessManager` whenever
// `engine_binary_path` is set, ignoring `RIVETKIT_ENGINE_SPAWN=never` and
// the endpoint; a serverless app server whose engine is briefly down
// spawns a second engine with another data dir. Expected: serverless mode
// honours `EngineSpawnMode` like `serve_with_config` does."
//
// The cause: rivetkit's `buildServeConfig` (dist/tsup/mod.js) always tries
// `import("@rivetkit/engine-cli")` and, since that package is a dependency of
// rivetkit and therefore always installed, sets `engineBinaryPath` in the
// serve config. No rivetkit option skips the import.
// lab:start (the README's lab removal block deletes these lines)
//
// On the wasm runtime, no actor starts: the wasm core refuses that field on
// every `/start` from the engine ("wasm runtimes cannot spawn an engine
// binary; omit this field and connect to an existing engine endpoint"), so a
// wasm app server accepts the engine's requests and starts nothing.
// Upstreamable fix (one line in `buildServeConfig`): resolve the engine
// binary only when the runtime can spawn one, i.e. wrap the `loadEngineCli()`
// block in `if (runtime.kind !== "wasm")`.
// lab:end
//
// Until then, this module hides `@rivetkit/engine-cli` from module resolution
// in the process that calls `hideEngineCli()`: rivetkit then takes its own
// "engine binary not installed" branch (it logs one warning and leaves the
// field out). Only runtime.ts (here) calls it, only in the app server, on
// every runtime; the hook works although rivetkit is already imported,
// because the import happens at the first request to `registry.handler()`.
// lab:start (the README's lab removal block deletes these lines)
// Measured with it (the lab's bench): a `.connect()` round trip one call at a
// time 5.1-5.9 ms p50 on wasm against 48 ms on native.
// lab:end
//
// Remove this file, and its call in runtime.ts (here), once rivetkit honours
// the spawn mode in serverless mode: the spawn test above then passes
// without it.
// lab:start (the README's lab removal block deletes these lines)
// The wasm runtime also needs the `buildServeConfig` fix: the wasm parity
// suite (`npx vitest run --project wasm`) then passes without it too.
// lab:end

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
					`${specifier} is hidden in the app server (src/workarounds/engine-cli.ts): it connects to an engine, it never spawns one`,
				);
				Object.assign(error, { code: "ERR_MODULE_NOT_FOUND" });
				throw error;
			}
			return nextResolve(specifier, context);
		},
	});
}
