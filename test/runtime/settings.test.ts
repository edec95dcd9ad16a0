import { describe, expect, test } from "vitest";
import { DEFAULT_RUNTIME, parseRuntime, RUNTIMES, type Runtime } from "../../src/runtime.ts";
import { settingsErrorLines as settingsLines } from "../support.ts";

/** The runtimes `FLEET_RUNTIME` accepts: native, and the reliability lab's wasm while the lab is kept. */
const ACCEPTED: Runtime[] = ["native"];
// lab:start (the README's lab removal block deletes these lines)
ACCEPTED.push("wasm");
// lab:end

describe("FLEET_RUNTIME", () => {
	test("defaults to the documented default runtime", () => {
		expect(parseRuntime({})).toBe(DEFAULT_RUNTIME);
		expect(parseRuntime({ FLEET_RUNTIME: "" })).toBe(DEFAULT_RUNTIME);
	});

	test("selects each runtime it accepts, and no other", () => {
		expect(RUNTIMES).toEqual(ACCEPTED);
		for (const runtime of ACCEPTED) expect(parseRuntime({ FLEET_RUNTIME: runtime })).toBe(runtime);
	});

	test("refuses anything else, naming the variable and what it accepts", () => {
		for (const value of ["auto", "WASM", "napi", "1"]) {
			expect(settingsLines(() => parseRuntime({ FLEET_RUNTIME: value }))).toEqual([
				`  FLEET_RUNTIME: must be ${ACCEPTED.join(" or ")} (got ${JSON.stringify(value)})`,
			]);
		}
	});

	test("refuses a RIVETKIT_RUNTIME that disagrees with it, and accepts one that agrees", () => {
		expect(settingsLines(() => parseRuntime({ FLEET_RUNTIME: "native", RIVETKIT_RUNTIME: "wasm" }))[0]).toMatch(
			/^ {2}RIVETKIT_RUNTIME: /,
		);
		expect(settingsLines(() => parseRuntime({ RIVETKIT_RUNTIME: "auto" }))[0]).toMatch(/^ {2}RIVETKIT_RUNTIME: /);
		expect(parseRuntime({ FLEET_RUNTIME: "native", RIVETKIT_RUNTIME: "native" })).toBe("native");
		// lab:start (the README's lab removal block deletes these lines)
		expect(parseRuntime({ FLEET_RUNTIME: "wasm", RIVETKIT_RUNTIME: "wasm" })).toBe("wasm");
		// lab:end
	});
});
