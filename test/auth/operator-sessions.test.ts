// Operator sessions end when the operator token changes (its key in the token
// no longer matches). In-process: each "server" is `authRoutes` with its settings.

import { Hono } from "hono";
import { describe, expect, test } from "vitest";
import { authenticate } from "../../src/auth/connection.ts";
import { authRoutes, requireOperatorToken, SESSION_COOKIE } from "../../src/auth/routes.ts";
import { type AuthSettings, MIN_SECRET_LENGTH, parseAuthSettings } from "../../src/auth/settings.ts";
import { signUserToken } from "../../src/auth/tokens.ts";
import { postRefresh, postSignIn, sessionCookie } from "../support.ts";

const AUTH_SECRET = "a".repeat(MIN_SECRET_LENGTH);
const FIRST_OPERATOR_TOKEN = "o".repeat(MIN_SECRET_LENGTH);
const ROTATED_OPERATOR_TOKEN = "r".repeat(MIN_SECRET_LENGTH);
/** In-process: the host part of a request URL is never looked at. */
const BASE = "http://fleet.test";

const production = (operatorToken?: string): AuthSettings =>
	parseAuthSettings({
		NODE_ENV: "production",
		AUTH_SECRET,
		RIVET_START_SECRET: "s".repeat(MIN_SECRET_LENGTH),
		...(operatorToken === undefined ? {} : { OPERATOR_TOKEN: operatorToken }),
	});

/** `authRoutes` plus one operator-only route, the way src/app.ts mounts them. */
function server(settings: AuthSettings): Hono {
	const app = new Hono();
	app.route("/api/auth", authRoutes(settings));
	app.get("/api/fleet", requireOperatorToken(settings), (c) => c.json({ ok: true }));
	return app;
}

async function signIn(app: Hono, operatorToken?: string) {
	const headers: Record<string, string> =
		operatorToken === undefined ? {} : { authorization: `Bearer ${operatorToken}` };
	const { res, body } = await postSignIn(BASE, { name: "ops" }, headers, app.fetch);
	expect(res.status).toBe(200);
	return { cookie: sessionCookie(res), body };
}

const refresh = (app: Hono, cookie: string) => postRefresh(BASE, cookie, app.fetch);

describe("operator sessions", () => {
	test("a rotated OPERATOR_TOKEN ends operator sessions: refresh, actors and operator routes refuse them", async () => {
		const before = server(production(FIRST_OPERATOR_TOKEN));
		const operator = await signIn(before, FIRST_OPERATOR_TOKEN);
		expect(operator.body.role).toBe("operator");
		expect((await refresh(before, operator.cookie)).body.role).toBe("operator");
		expect(
			(await before.request("/api/fleet", { headers: { authorization: `Bearer ${operator.body.token}` } })).status,
		).toBe(200);

		const rotated = production(ROTATED_OPERATOR_TOKEN);
		const after = server(rotated);
		const { res, body } = await refresh(after, operator.cookie);
		expect(res.status).toBe(401);
		expect(body.code).toBe("unauthenticated");
		expect(body.token).toBeUndefined();
		// The browser has to sign in again: the cookie is cleared.
		expect(res.headers.getSetCookie().join()).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));
		// The access token it still holds is no operator's any more, at actors and at operator routes.
		await expect(authenticate({ token: operator.body.token }, rotated)).rejects.toMatchObject({
			code: "unauthenticated",
		});
		const fleet = await after.request("/api/fleet", { headers: { authorization: `Bearer ${operator.body.token}` } });
		expect(fleet.status).toBe(403);

		// Signing in with the new token works; users' sessions are untouched by the rotation.
		expect((await signIn(after, ROTATED_OPERATOR_TOKEN)).body.role).toBe("operator");
		const user = await signIn(before);
		expect((await refresh(after, user.cookie)).body).toMatchObject({ userId: user.body.userId, role: "user" });
	});

	test("a removed OPERATOR_TOKEN ends operator sessions; an operator token without the operator key is refused", async () => {
		const operator = await signIn(server(production(FIRST_OPERATOR_TOKEN)), FIRST_OPERATOR_TOKEN);
		const removed = production();
		expect(removed.operatorToken).toBeUndefined();
		expect((await refresh(server(removed), operator.cookie)).res.status).toBe(401);
		await expect(authenticate({ token: operator.body.token }, removed)).rejects.toMatchObject({
			code: "unauthenticated",
		});
		// Signed before this check existed: no operator key.
		const settings = production(FIRST_OPERATOR_TOKEN);
		const subject = { userId: "u_old", name: "old", role: "operator" } as const;
		const access = await signUserToken("access", subject, AUTH_SECRET);
		await expect(authenticate({ token: access.token }, settings)).rejects.toMatchObject({ code: "unauthenticated" });
		const session = await signUserToken("session", subject, AUTH_SECRET);
		expect((await refresh(server(settings), `${SESSION_COOKIE}=${session.token}`)).res.status).toBe(401);
	});
});
