// Sign-in, token refresh and the app's guards, over real HTTP against the
// suite's app server (test/setup/global.ts), plus one production-mode server
// of this file's own for what only production does.

import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { authenticate } from "../../src/auth/connection.ts";
import { SESSION_COOKIE } from "../../src/auth/routes.ts";
import {
	DEV_OPERATOR_TOKEN,
	DEV_START_SECRET,
	MIN_SECRET_LENGTH,
	parseAuthSettings,
	START_SECRET_HEADER,
} from "../../src/auth/settings.ts";
import { ACCESS_TOKEN_TTL_S, signUserToken } from "../../src/auth/tokens.ts";
import { type RunningAppServer, startAppServer } from "../../tools/local/app-server.ts";
import { freePort } from "../../tools/local/ports.ts";
import { appUrl, engineUrl, postRefresh, postSignIn, sessionCookie, uniqueKey } from "../support.ts";

/** The suite's server runs in development: it signs with the development secret. */
const devSettings = parseAuthSettings({});
const USER_ID = /^u_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const signIn = (body: unknown, headers: Record<string, string> = {}, base = appUrl()) =>
	postSignIn(base, body, headers);
const refresh = (cookie?: string, base = appUrl()) => postRefresh(base, cookie);

describe("sign-in", () => {
	test("the server issues the user id; the token speaks for it, for ten minutes", async () => {
		const { res, body } = await signIn({ name: "  alice  " });
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("no-store");
		expect(body).toMatchObject({ name: "alice", role: "user" });
		expect(body.userId).toMatch(USER_ID);
		// What an actor's createConnState will see.
		const identity = await authenticate({ token: body.token }, devSettings);
		expect(identity).toEqual({ userId: body.userId, name: "alice", role: "user", expiresAt: body.expiresAt });
		expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(ACCESS_TOKEN_TTL_S * 1_000);
		expect(body.expiresAt - Date.now()).toBeGreaterThan((ACCESS_TOKEN_TTL_S - 30) * 1_000);

		// Development: HttpOnly and SameSite=Lax, not Secure (plain http on loopback).
		const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? "";
		expect(setCookie).toMatch(/; HttpOnly/);
		expect(setCookie).toMatch(/; SameSite=Lax/);
		expect(setCookie).toMatch(/; Path=\//);
		expect(setCookie).not.toMatch(/; Secure/);
		// The same name again is another user: a name is a label.
		expect((await signIn({ name: "alice" })).body.userId).not.toBe(body.userId);
	});

	test("bad bodies are 4xx with stable codes and set no cookie; a client cannot choose its user id or role", async () => {
		const post = (body: string, contentType = "application/json") =>
			fetch(`${appUrl()}/api/auth/sign-in`, { method: "POST", headers: { "content-type": contentType }, body });
		const victim = (await signIn({ name: "victim" })).body.userId;
		const cases: Array<[Response, number, string]> = [
			[await post(JSON.stringify({ name: "mallory", userId: victim })), 400, "invalid_input"],
			[await post(JSON.stringify({ name: "mallory", role: "operator" })), 400, "invalid_input"],
			[await post("{ not json"), 400, "invalid_json"],
			[await post(JSON.stringify({})), 400, "invalid_input"],
			[await post(JSON.stringify({ name: "" })), 400, "invalid_input"],
			[await post(JSON.stringify({ name: "x".repeat(33) })), 400, "invalid_input"],
			[await post(JSON.stringify({ name: "a\u0000b" })), 400, "invalid_input"],
			// An HTML form cannot send JSON: it cannot sign anyone in.
			[await post("name=alice", "application/x-www-form-urlencoded"), 415, "unsupported_media_type"],
		];
		for (const [res, status, code] of cases) {
			expect(res.status).toBe(status);
			expect(await res.json()).toMatchObject({ code });
			expect(res.headers.getSetCookie()).toEqual([]);
		}
	});

	test("operators sign in with the operator token; a wrong one is refused, not downgraded", async () => {
		const operator = await signIn({ name: "ops" }, { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` });
		expect(operator.res.status).toBe(200);
		expect(operator.body.role).toBe("operator");
		expect((await authenticate({ token: operator.body.token }, devSettings)).role).toBe("operator");

		const wrong = await signIn({ name: "ops" }, { authorization: `Bearer ${"x".repeat(MIN_SECRET_LENGTH)}` });
		expect(wrong.res.status).toBe(403);
		expect(wrong.body.code).toBe("forbidden");
		expect(wrong.res.headers.getSetCookie()).toEqual([]);
	});
});

describe("token refresh", () => {
	test("the session cookie buys a fresh token for the same user, and keeps the role", async () => {
		const signedIn = await signIn({ name: "carol" });
		const { res, body } = await refresh(sessionCookie(signedIn.res));
		expect(res.status).toBe(200);
		expect(body).toMatchObject({ userId: signedIn.body.userId, name: "carol", role: "user" });
		expect((await authenticate({ token: body.token }, devSettings)).userId).toBe(signedIn.body.userId);

		const operator = await signIn({ name: "ops" }, { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` });
		expect((await refresh(sessionCookie(operator.res))).body.role).toBe("operator");
	});

	test("no cookie, a forged one, or a token that is not a session buys nothing: 401 unauthenticated", async () => {
		const victim = (await signIn({ name: "victim" })).body.userId;
		const forgedCookies = [
			// The victim's id, signed with a secret that is not the server's.
			(await signUserToken("session", { userId: victim, name: "v", role: "user" }, "y".repeat(MIN_SECRET_LENGTH)))
				.token,
			// A real access token is not a session.
			(await signIn({ name: "mallory" })).body.token,
			"garbage",
		];
		for (const cookie of [undefined, ...forgedCookies.map((forged) => `${SESSION_COOKIE}=${forged}`)]) {
			const { res, body } = await refresh(cookie);
			expect(res.status).toBe(401);
			expect(body.code).toBe("unauthenticated");
			expect(body.userId).toBeUndefined();
		}
	});

	test("sign-out clears the cookie", async () => {
		const signedIn = await signIn({ name: "dave" });
		const res = await fetch(`${appUrl()}/api/auth/sign-out`, {
			method: "POST",
			headers: { cookie: sessionCookie(signedIn.res) },
		});
		expect(res.status).toBe(204);
		expect(res.headers.getSetCookie().join()).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));
	});
});

describe("/api/rivet", () => {
	const startHeaders = (pool: string) => ({
		// What the engine sends, naming a pool this server does not serve.
		"x-rivet-endpoint": engineUrl(),
		"x-rivet-namespace-name": "default",
		"x-rivet-pool-name": pool,
		"x-rivet-token": "dev",
	});
	const envoysOf = async (pool: string) => {
		const res = await fetch(`${engineUrl()}/envoys?namespace=default&name=${encodeURIComponent(pool)}`);
		return ((await res.json()) as { envoys: Array<{ pool_name: string }> }).envoys.filter((e) => e.pool_name === pool);
	};

	test("/start without the start secret is 401, with a wrong one 403, and opens nothing", async () => {
		const pool = uniqueKey("stranger");
		const attempts: Array<[Record<string, string>, number, string]> = [
			[{}, 401, "unauthenticated"],
			[{ [START_SECRET_HEADER]: "wrong" }, 403, "forbidden"],
			[{ [START_SECRET_HEADER]: `${DEV_START_SECRET}x` }, 403, "forbidden"],
		];
		for (const [extra, status, code] of attempts) {
			for (const path of ["/api/rivet/start", "/api/rivet/start/"]) {
				const res = await fetch(`${appUrl()}${path}`, {
					method: "POST",
					headers: { ...startHeaders(pool), ...extra },
					body: "{}",
					signal: AbortSignal.timeout(10_000),
				});
				expect(res.status).toBe(status);
				expect(await res.json()).toMatchObject({ code });
			}
		}
		// An accepted `/start` stays open as a stream; these got the guard's JSON, and no envoy serves the pool.
		expect(await envoysOf(pool)).toEqual([]);
		// And the server still answers the engine for its real pool.
		expect((await fetch(`${appUrl()}/api/rivet/metadata`)).status).toBe(200);
	});

	test("/metadata and /health stay open; other rivetkit routes need the secret", async () => {
		expect((await fetch(`${appUrl()}/api/rivet/metadata`)).status).toBe(200);
		expect((await fetch(`${appUrl()}/api/rivet/health`)).status).toBe(200);
		expect((await fetch(`${appUrl()}/api/rivet/metrics`)).status).toBe(401);
	});

	test("body limits: 16 KiB for app routes, 16 MiB for /start, 413 with a JSON code; with the secret, /start reaches rivetkit", async () => {
		const big = JSON.stringify({ name: "x".repeat(17 * 1024) });
		const res = await fetch(`${appUrl()}/api/auth/sign-in`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: big,
		});
		expect(res.status).toBe(413);
		expect(await res.json()).toMatchObject({ code: "payload_too_large" });

		// /start accepts more than 16 KiB (the start payload), but not more than 16 MiB.
		const start = (bytes: number) =>
			fetch(`${appUrl()}/api/rivet/start`, {
				method: "POST",
				headers: {
					...startHeaders(inject("pool")),
					"x-rivet-endpoint": "http://127.0.0.1:1",
					[START_SECRET_HEADER]: DEV_START_SECRET,
				},
				body: new Uint8Array(bytes),
				signal: AbortSignal.timeout(30_000),
			});
		const overLimit = await start(16 * 1024 * 1024 + 1);
		expect(overLimit.status).toBe(413);
		expect(await overLimit.json()).toMatchObject({ code: "payload_too_large" });
		const underLimit = await start(64 * 1024);
		// Past the guard and the limit: rivetkit's own refusal of the endpoint it names.
		expect(underLimit.status).toBe(400);
		expect(await underLimit.text()).toMatch(/endpoint/i);
	});
});

describe("/api/fleet", () => {
	test("needs the operator token: 401 without, 403 with a wrong one or a user's token, 200 with it", async () => {
		const noToken = await fetch(`${appUrl()}/api/fleet`);
		expect(noToken.status).toBe(401);
		expect(await noToken.json()).toMatchObject({ code: "unauthenticated" });
		const userToken = (await signIn({ name: "eve" })).body.token;
		for (const bearer of ["x".repeat(MIN_SECRET_LENGTH), userToken]) {
			const res = await fetch(`${appUrl()}/api/fleet`, { headers: { authorization: `Bearer ${bearer}` } });
			expect(res.status).toBe(403);
			expect(await res.json()).toMatchObject({ code: "forbidden" });
		}
		const ok = await fetch(`${appUrl()}/api/fleet`, { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } });
		expect(ok.status).toBe(200);
		expect(await ok.json()).toMatchObject({ enabled: true });
	});
});

describe("a production server", () => {
	let server: RunningAppServer;
	const secrets = {
		AUTH_SECRET: "p".repeat(MIN_SECRET_LENGTH),
		RIVET_START_SECRET: "q".repeat(MIN_SECRET_LENGTH),
		OPERATOR_TOKEN: "r".repeat(MIN_SECRET_LENGTH),
	};

	beforeAll(async () => {
		server = await startAppServer({
			port: await freePort(),
			env: {
				NODE_ENV: "production",
				RIVET_RUNNER_VERSION: "1",
				// No engine: nothing here needs one, and no actor should start.
				RIVET_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
				FLEET_VIEW: "on",
				...secrets,
			},
		});
	});
	afterAll(async () => {
		await server?.stop();
	});

	test("sets a Secure __Host- cookie that only this server's secret verifies, and refuses the development secrets", async () => {
		const { res, body } = await signIn({ name: "prod" }, {}, server.url);
		expect(res.status).toBe(200);
		const setCookie = res.headers.getSetCookie().join();
		expect(setCookie).toMatch(new RegExp(`^__Host-${SESSION_COOKIE}=`));
		expect(setCookie).toMatch(/; Secure/);
		expect(setCookie).toMatch(/; HttpOnly/);
		// The development secret does not verify production tokens.
		await expect(authenticate({ token: body.token }, devSettings)).rejects.toMatchObject({ code: "unauthenticated" });
		const prod = parseAuthSettings({ NODE_ENV: "production", ...secrets });
		expect((await authenticate({ token: body.token }, prod)).userId).toBe(body.userId);
		expect((await refresh(sessionCookie(res), server.url)).body.userId).toBe(body.userId);
		// It refuses the development start secret and operator token.
		const start = await fetch(`${server.url}/api/rivet/start`, {
			method: "POST",
			headers: { [START_SECRET_HEADER]: DEV_START_SECRET },
			body: "{}",
		});
		expect(start.status).toBe(403);
		const fleet = await fetch(`${server.url}/api/fleet`, {
			headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
		});
		expect(fleet.status).toBe(403);
	});
});
