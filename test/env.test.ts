import { describe, expect, test } from "vitest";
import { applyToRivetkit, parseEnv, stripCredentials } from "../src/env.ts";
import { settingsErrorLines } from "./support.ts";

describe("parseEnv", () => {
	test("defaults work with an empty environment (local development)", () => {
		const env = parseEnv({});
		expect(env).toMatchObject({
			port: 3000,
			endpoint: "http://127.0.0.1:6420",
			namespace: "default",
			pool: "default",
			runnerVersion: undefined,
			versionSource: "unset",
		});
	});

	test("PORT wins over RIVET_PORT", () => {
		expect(parseEnv({ PORT: "8080", RIVET_PORT: "9090" }).port).toBe(8080);
		expect(parseEnv({ RIVET_PORT: "9090" }).port).toBe(9090);
	});

	test("RIVET_RUNNER_VERSION wins over RIVET_ENVOY_VERSION and is handed to rivetkit", () => {
		const env = parseEnv({ RIVET_RUNNER_VERSION: "12", RIVET_ENVOY_VERSION: "7" });
		expect(env).toMatchObject({ runnerVersion: 12, versionSource: "RIVET_RUNNER_VERSION" });
		const target: Record<string, string | undefined> = {};
		applyToRivetkit(env, target);
		expect(target.RIVET_ENVOY_VERSION).toBe("12");
		expect(target.RIVET_RUN_SERVICES).toBe("0");
		expect(parseEnv({ RIVET_ENVOY_VERSION: "7" }).versionSource).toBe("RIVET_ENVOY_VERSION");
	});

	test("bad values are reported one line per field", () => {
		const bad = { PORT: "70000", RIVET_RUNNER_VERSION: "-1", RIVET_ENDPOINT: "not a url" };
		expect(settingsErrorLines(() => parseEnv(bad))).toHaveLength(3);
	});

	test("the namespace and token come from the endpoint unless set on their own, and never reach the public endpoint", () => {
		const endpoint = "https://my-ns:sk%2Fsecret@api.rivet.dev";
		expect(stripCredentials(endpoint)).toBe("https://api.rivet.dev");
		const target: Record<string, string | undefined> = {};
		applyToRivetkit(parseEnv({ RIVET_ENDPOINT: endpoint }), target);
		expect(target.RIVET_PUBLIC_ENDPOINT).toBe("https://api.rivet.dev");
		expect(parseEnv({ RIVET_ENDPOINT: endpoint })).toMatchObject({ namespace: "my-ns", token: "sk/secret" });
		expect(parseEnv({ RIVET_ENDPOINT: endpoint, RIVET_NAMESPACE: "other", RIVET_TOKEN: "t" })).toMatchObject({
			namespace: "other",
			token: "t",
		});
		expect(parseEnv({})).toMatchObject({ namespace: "default", token: undefined });
	});
});

describe("runner version", () => {
	const build = { runnerVersion: 41, source: "git", commit: null, builtAt: "2026-01-01T00:00:00.000Z" };

	test("comes from the build when no variable overrides it", () => {
		expect(parseEnv({}, build)).toMatchObject({ runnerVersion: 41, versionSource: "build" });
		expect(parseEnv({ RIVET_ENVOY_VERSION: "50" }, build)).toMatchObject({ runnerVersion: 50 });
	});

	test("is required in production", () => {
		expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/RIVET_RUNNER_VERSION: required in production/);
		// Production also needs its secrets (see test/auth/settings.test.ts).
		const secrets = { AUTH_SECRET: "a".repeat(32), RIVET_START_SECRET: "s".repeat(32) };
		expect(parseEnv({ NODE_ENV: "production", ...secrets }, build).runnerVersion).toBe(41);
	});
});
