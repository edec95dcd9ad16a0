// The launcher's engine settings yield to the environment: any entry of
// LOCAL_ENGINE_TUNING, and the engine's log filter, can be changed without an
// edit (docs/configuration.md). Pure functions: no engine is started here.

import { describe, expect, it } from "vitest";
import { ENGINE_LOG_VARIABLE, engineLogEnv, engineTuning, LOCAL_ENGINE_TUNING } from "../../../tools/local/engine.ts";

const GATEWAY_V3 = "RIVET__FEATURES__GUARD_GATEWAY_V3__MODE";

describe("engine settings", () => {
	it("applies every local setting the environment does not set (an empty value counts as unset), and no other", () => {
		expect(engineTuning({})).toEqual(LOCAL_ENGINE_TUNING);
		expect(engineTuning({ [GATEWAY_V3]: "" })).toEqual(LOCAL_ENGINE_TUNING);
		// A setting the environment sets is left to it: the engine inherits it.
		const tuning = engineTuning({ [GATEWAY_V3]: "off" });
		expect(tuning).not.toHaveProperty(GATEWAY_V3);
		expect(Object.keys(tuning)).toHaveLength(Object.keys(LOCAL_ENGINE_TUNING).length - 1);
	});

	it("logs at warn unless FLEET_ENGINE_LOG says otherwise; inherit passes RUST_LOG through", () => {
		expect(engineLogEnv({})).toEqual({ RUST_LOG: "warn" });
		expect(engineLogEnv({ [ENGINE_LOG_VARIABLE]: "info,guard=debug" })).toEqual({ RUST_LOG: "info,guard=debug" });
		expect(engineLogEnv({ [ENGINE_LOG_VARIABLE]: "inherit", RUST_LOG: "debug" })).toEqual({});
	});
});
