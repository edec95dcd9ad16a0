import { describe, expect, test } from "vitest";
import { DEFAULT_RUNTIME, parseRuntime, RuntimeSettingError } from "../../src/runtime.ts";

describe("FLEET_RUNTIME", () => {
	test("defaults to the documented default runtime", () => {
		expect(parseRuntime({})).toBe(DEFAULT_RUNTIME);
		expect(parseRuntime({ FLEET_RUNTIME: "" })).toBe(DEFAULT_RUNTIME);
	});

	test("selects native or wasm", () => {
		expect(parseRuntime({ FLEET_RUNTIME: "native" })).toBe("native");
		expect(parseRuntime({ FLEET_RUNTIME: "wasm" })).toBe("wasm");
	});

	test("refuses anything else, naming the variable", () => {
		for (const value of ["auto", "WASM", "napi", "1"]) {
			expect(() => parseRuntime({ FLEET_RUNTIME: value })).toThrow(RuntimeSettingError);
			expect(() => parseRuntime({ FLEET_RUNTIME: value })).toThrow(/^FLEET_RUNTIME: must be one of native, wasm/);
		}
	});

	test("refuses a RIVETKIT_RUNTIME that disagrees with it, and accepts one that agrees", () => {
		expect(() => parseRuntime({ FLEET_RUNTIME: "native", RIVETKIT_RUNTIME: "wasm" })).toThrow(/^RIVETKIT_RUNTIME/);
		expect(() => parseRuntime({ RIVETKIT_RUNTIME: "auto" })).toThrow(/^RIVETKIT_RUNTIME/);
		expect(parseRuntime({ FLEET_RUNTIME: "wasm", RIVETKIT_RUNTIME: "wasm" })).toBe("wasm");
	});
});
