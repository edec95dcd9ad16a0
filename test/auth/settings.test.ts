// What the server demands of its environment before it boots: the auth
// secrets in production, and a public client token that is really public.

import { spawn } from "node:child_process";
import { Hono } from "hono";
import { describe, expect, test, vi } from "vitest";
import { requireStartSecret } from "../../src/auth/routes.ts";
import {
	DEFAULT_SIGN_IN_BURST,
	DEFAULT_SIGN_INS_PER_HOUR,
	DEV_AUTH_SECRET,
	DEV_OPERATOR_TOKEN,
	DEV_START_SECRET,
	isLoopbackHost,
	MIN_SECRET_LENGTH,
	operatorKeyFor,
	parseAuthSettings,
	START_GUARD_ACK,
} from "../../src/auth/settings.ts";
import { ACCESS_TOKEN_TTL_S } from "../../src/auth/tokens.ts";
import { parseEnv } from "../../src/env.ts";
import { freePort } from "../../tools/local/ports.ts";
import { namedFields, runUntilExit, settingsErrorLines } from "../support.ts";

const secret = (c: string) => c.repeat(MIN_SECRET_LENGTH);
const production = {
	NODE_ENV: "production",
	RIVET_RUNNER_VERSION: "1",
	AUTH_SECRET: secret("a"),
	RIVET_START_SECRET: secret("s"),
};

const envErrorLines = (source: Record<string, string>) => settingsErrorLines(() => parseEnv(source));

describe("auth settings", () => {
	test("development works with no settings, on fixed development values every server shares", () => {
		expect(parseAuthSettings({})).toEqual({
			production: false,
			authSecret: DEV_AUTH_SECRET,
			startSecret: DEV_START_SECRET,
			startGuard: "secret",
			operatorToken: DEV_OPERATOR_TOKEN,
			operatorKey: operatorKeyFor(DEV_AUTH_SECRET, DEV_OPERATOR_TOKEN),
			accessTokenTtlS: ACCESS_TOKEN_TTL_S,
			signInLimit: { burst: DEFAULT_SIGN_IN_BURST, perHour: DEFAULT_SIGN_INS_PER_HOUR },
			clientAddressHeader: undefined,
		});
	});

	test("DEV_ACCESS_TOKEN_TTL_S shortens access tokens in development only", () => {
		expect(parseAuthSettings({ DEV_ACCESS_TOKEN_TTL_S: "60" }).accessTokenTtlS).toBe(60);
		expect(() => parseAuthSettings({ DEV_ACCESS_TOKEN_TTL_S: "5" })).toThrow(/DEV_ACCESS_TOKEN_TTL_S/);
		const lines = envErrorLines({ ...production, DEV_ACCESS_TOKEN_TTL_S: "60" });
		expect(namedFields(lines)).toEqual(["DEV_ACCESS_TOKEN_TTL_S"]);
	});

	test("production needs AUTH_SECRET and RIVET_START_SECRET and refuses the public development values; short secrets are refused everywhere", () => {
		const short = envErrorLines({ AUTH_SECRET: "short", OPERATOR_TOKEN: "also-short", RIVET_START_SECRET: "x" });
		expect(namedFields(short)).toEqual(["AUTH_SECRET", "OPERATOR_TOKEN", "RIVET_START_SECRET"]);
		const missing = envErrorLines({ NODE_ENV: "production", RIVET_RUNNER_VERSION: "1" });
		expect(namedFields(missing)).toEqual(["AUTH_SECRET", "RIVET_START_SECRET"]);
		const devValues = envErrorLines({
			...production,
			AUTH_SECRET: DEV_AUTH_SECRET,
			OPERATOR_TOKEN: DEV_OPERATOR_TOKEN,
		});
		expect(namedFields(devValues)).toEqual(["AUTH_SECRET", "OPERATOR_TOKEN"]);
		expect(parseEnv(production).auth).toEqual({
			production: true,
			authSecret: secret("a"),
			startSecret: secret("s"),
			startGuard: "secret",
			// No operator token: operator routes refuse everyone.
			operatorToken: undefined,
			operatorKey: undefined,
			accessTokenTtlS: ACCESS_TOKEN_TTL_S,
			signInLimit: { burst: DEFAULT_SIGN_IN_BURST, perHour: DEFAULT_SIGN_INS_PER_HOUR },
			clientAddressHeader: undefined,
		});
	});

	test("RIVET_START_GUARD=off (Rivet Compute) needs no start secret in production, only with its acknowledgement; nothing but secret/off is accepted", () => {
		const { RIVET_START_SECRET: _unused, ...withoutStartSecret } = production;
		const compute = { ...withoutStartSecret, RIVET_START_GUARD: "off", RIVET_START_GUARD_ACK: START_GUARD_ACK };
		expect(parseEnv(compute).auth).toMatchObject({ production: true, startGuard: "off" });
		// One stray variable does not open /start in production.
		const { RIVET_START_GUARD_ACK: _ack, ...unacknowledged } = compute;
		const refused = envErrorLines(unacknowledged);
		expect(namedFields(refused)).toEqual(["RIVET_START_GUARD"]);
		expect(refused[0]).toContain(`RIVET_START_GUARD_ACK=${START_GUARD_ACK}`);
		expect(namedFields(envErrorLines({ ...compute, RIVET_START_GUARD_ACK: "yes" }))).toEqual(["RIVET_START_GUARD_ACK"]);
		// Development needs no acknowledgement.
		expect(parseAuthSettings({ RIVET_START_GUARD: "off" }).startGuard).toBe("off");
		// A start secret next to off would be read by nothing: refused, in production and in development.
		for (const source of [
			{ ...compute, RIVET_START_SECRET: secret("s") },
			{ RIVET_START_GUARD: "off", RIVET_START_SECRET: secret("s") },
		]) {
			expect(envErrorLines(source).join("\n")).toContain("RIVET_START_GUARD: off ignores RIVET_START_SECRET");
		}
		// The default still needs it, and a typo does not turn the guard off.
		expect(namedFields(envErrorLines(withoutStartSecret))).toEqual(["RIVET_START_SECRET"]);
		expect(namedFields(envErrorLines({ ...production, RIVET_START_GUARD: "none" }))).toEqual(["RIVET_START_GUARD"]);
	});

	test("off loopback, development refuses the public development values too", () => {
		for (const host of ["0.0.0.0", "::", "192.168.1.20", "fleet.example.com"]) {
			const missing = envErrorLines({ HOST: host });
			expect(namedFields(missing)).toEqual(["AUTH_SECRET", "RIVET_START_SECRET"]);
			expect(missing.join("\n")).toContain(`when HOST (${host}) is not a loopback address`);
			const devValues = envErrorLines({
				HOST: host,
				AUTH_SECRET: DEV_AUTH_SECRET,
				RIVET_START_SECRET: secret("s"),
				OPERATOR_TOKEN: DEV_OPERATOR_TOKEN,
			});
			expect(namedFields(devValues)).toEqual(["AUTH_SECRET", "OPERATOR_TOKEN"]);
			// Real secrets work; an unset operator token closes operator routes instead of using the public one.
			const auth = parseEnv({ HOST: host, AUTH_SECRET: secret("a"), RIVET_START_SECRET: secret("s") }).auth;
			expect(auth).toMatchObject({ production: false, authSecret: secret("a"), operatorToken: undefined });
		}
		for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"]) {
			expect(isLoopbackHost(host)).toBe(true);
			expect(parseEnv({ HOST: host }).auth.authSecret).toBe(DEV_AUTH_SECRET);
		}
		for (const host of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.example.com", "localhost.example.com"]) {
			expect(isLoopbackHost(host)).toBe(false);
		}
	});

	test("the sign-in limit and the trusted client-address header are settings", () => {
		const auth = parseAuthSettings({
			SIGN_IN_BURST: "3",
			SIGN_INS_PER_HOUR: "120",
			CLIENT_ADDRESS_HEADER: "X-Real-IP",
		});
		expect(auth.signInLimit).toEqual({ burst: 3, perHour: 120 });
		expect(auth.clientAddressHeader).toBe("x-real-ip");
		expect(() => parseAuthSettings({ SIGN_IN_BURST: "0" })).toThrow(/SIGN_IN_BURST/);
		expect(() => parseAuthSettings({ CLIENT_ADDRESS_HEADER: "x real ip" })).toThrow(/CLIENT_ADDRESS_HEADER/);
	});
});

describe("the start guard", () => {
	/** What a `/start` with `headers` gets from the guard alone ("passed" when the guard lets it through). */
	async function startThrough(
		guard: "secret" | "off",
		headers: Record<string, string>,
		path = "/api/rivet/start",
	): Promise<number | "passed"> {
		const settings = { ...parseAuthSettings({ RIVET_START_SECRET: secret("s") }), startGuard: guard };
		const app = new Hono();
		app.use("/api/rivet/*", requireStartSecret(settings));
		app.all("/api/rivet/*", (c) => c.text("passed"));
		const res = await app.request(path, { method: "POST", headers });
		return res.status === 200 && (await res.text()) === "passed" ? "passed" : res.status;
	}

	test("secret: only x-fleet-start-secret passes; off: /start alone passes, without it (Rivet Compute, whose engine cannot send it)", async () => {
		expect(await startThrough("secret", {})).toBe(401);
		expect(await startThrough("secret", { "x-fleet-start-secret": secret("x") })).toBe(403);
		expect(await startThrough("secret", { "x-fleet-start-secret": secret("s") })).toBe("passed");
		expect(await startThrough("secret", { "x-fleet-start-secret": secret("s") }, "/api/rivet/metrics")).toBe("passed");
		expect(await startThrough("off", {})).toBe("passed");
		expect(await startThrough("off", {}, "/api/rivet/start/")).toBe("passed");
		// Everything else `off` leaves shut, even with the public development secret.
		for (const path of ["/api/rivet/metrics", "/api/rivet/start/x", "/api/rivet/"]) {
			expect(await startThrough("off", {}, path)).toBe(401);
			expect(await startThrough("off", { "x-fleet-start-secret": DEV_START_SECRET }, path)).toBe(401);
		}
	});
});

describe("the public client token", () => {
	test("may not be a secret (sk_) token or the engine token, in either place it can be set", () => {
		const cases: Array<[Record<string, string>, RegExp]> = [
			[{ RIVET_PUBLIC_TOKEN: "sk_live_123" }, /RIVET_PUBLIC_TOKEN: carries a secret token/],
			[{ RIVET_PUBLIC_ENDPOINT: "https://ns:sk_live_123@api.rivet.dev" }, /RIVET_PUBLIC_ENDPOINT: carries a secret/],
			[{ RIVET_TOKEN: "engine-token", RIVET_PUBLIC_TOKEN: "engine-token" }, /same token as RIVET_TOKEN/],
			[
				{ RIVET_ENDPOINT: "https://ns:engine-token@api.rivet.dev", RIVET_PUBLIC_TOKEN: "engine-token" },
				/same token as RIVET_TOKEN/,
			],
			[
				{ RIVET_TOKEN: "engine-token", RIVET_PUBLIC_ENDPOINT: "https://ns:engine-token@api.rivet.dev" },
				/same token as RIVET_TOKEN/,
			],
		];
		for (const [source, message] of cases) expect(envErrorLines(source).join("\n")).toMatch(message);
		// A real public token is fine.
		const ok = parseEnv({ RIVET_TOKEN: "sk_engine", RIVET_PUBLIC_ENDPOINT: "https://ns:pk_public@api.rivet.dev" });
		expect(ok.token).toBe("sk_engine");
	});

	test("the server process refuses to boot with an sk_ public token, or in production without its secrets, naming each", async () => {
		const cases: Array<[Record<string, string>, string[]]> = [
			[{ RIVET_PUBLIC_TOKEN: "sk_live_do_not_publish" }, ["RIVET_PUBLIC_TOKEN: carries a secret token (sk_…)"]],
			[
				{ NODE_ENV: "production", RIVET_RUNNER_VERSION: "1", AUTH_SECRET: "", RIVET_START_SECRET: "" },
				["AUTH_SECRET: required in production", "RIVET_START_SECRET: required in production"],
			],
		];
		for (const [env, lines] of cases) {
			const { code, stderr } = await runUntilExit({ PORT: String(await freePort()), ...env });
			expect(code).toBe(1);
			expect(stderr).toContain("invalid environment, not starting");
			for (const line of lines) expect(stderr).toContain(line);
			// The message names the variable, never its value.
			expect(stderr).not.toContain("sk_live_do_not_publish");
		}
	});

	test("a production server with the start guard off says so in exactly one warning, and in its listening line", async () => {
		const child = spawn(process.execPath, ["src/server.ts"], {
			env: {
				...process.env,
				PORT: String(await freePort()),
				NODE_ENV: "production",
				RIVET_RUNNER_VERSION: "1",
				AUTH_SECRET: secret("a"),
				RIVET_START_SECRET: "",
				RIVET_START_GUARD: "off",
				RIVET_START_GUARD_ACK: START_GUARD_ACK,
				// Nothing answers there: the server need not reach an engine to say how it is guarded.
				RIVET_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
			},
		});
		let output = "";
		child.stdout.on("data", (d: Buffer) => {
			output += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			output += d.toString();
		});
		try {
			await vi.waitFor(() => expect(output).toContain("actor-fleet listening on"), { timeout: 30_000, interval: 50 });
			const lines = output.split("\n");
			expect(lines.filter((l) => l.includes("RIVET_START_GUARD=off"))).toHaveLength(1);
			expect(lines.find((l) => l.includes("actor-fleet listening on"))).toMatch(/start guard off\)$/);
		} finally {
			child.kill("SIGKILL");
		}
	});
});
