// rivetkit 2.3.19's workarounds for the runtime, applied by
// `prepareRuntime()` (src/runtime.ts) before the first request reaches
// `registry.handler()`; the hook the runtime setting plugs into. Each piece
// is its own file here, listed in README.md.

import type { Runtime } from "../runtime.ts";
import { drainUnreadBodies } from "./drain-unread-body.ts";
import { hideEngineCli } from "./engine-cli.ts";
import { keepEnvoyNoDelay } from "./envoy-nodelay.ts";
// lab:start (the README's lab removal block deletes these lines)
import { loadWasmCore } from "./wasm-core.ts";
// lab:end

/**
 * With the engine binary resolvable, rivetkit's core spawns an engine of its
 * own whenever the configured one does not answer (engine-cli.ts). On the
 * native runtime, a body the actor did not read is drained instead of
 * cancelled (drain-unread-body.ts), and, unless `FLEET_ENVOY_NODELAY=off`,
 * the core's engine connection gets TCP_NODELAY (envoy-nodelay.ts).
 */
export async function applyRuntimeWorkarounds(
	runtime: Runtime,
	options: { envoyNoDelay: boolean } = { envoyNoDelay: true },
): Promise<void> {
	hideEngineCli();
	// lab:start (the README's lab removal block deletes these lines)
	// The lab's wasm runtime: its core is loaded here, with its repairs (wasm-core.ts).
	if (runtime === "wasm") await loadWasmCore();
	// lab:end
	if (runtime === "native") {
		drainUnreadBodies();
		if (options.envoyNoDelay) keepEnvoyNoDelay(process.env.RIVET_ENDPOINT ?? "http://127.0.0.1:6420");
	}
}
