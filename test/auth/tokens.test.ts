// The actor-side checks (src/auth/connection.ts) on real tokens: what an
// actor's `createConnState` accepts and refuses. What each identity may then
// call is test/actors/access.test.ts.

import { describe, expect, test } from "vitest";
import { authenticate, serverConnParams } from "../../src/auth/connection.ts";
import { parseAuthSettings } from "../../src/auth/settings.ts";
import { ACCESS_TOKEN_TTL_S, signServerToken, signUserToken } from "../../src/auth/tokens.ts";
import { refusal } from "../support.ts";

const settings = parseAuthSettings({ AUTH_SECRET: "test-secret-for-tokens-test-000000000" });
const otherSecret = "another-servers-secret-000000000000000";
const alice = { userId: "u_alice", name: "alice", role: "user" } as const;

describe("authenticate", () => {
	test("accepts an access token and returns the identity it was signed for", async () => {
		const { token, expiresAt } = await signUserToken("access", alice, settings.authSecret);
		const identity = await authenticate({ token }, settings);
		expect(identity).toEqual({ ...alice, expiresAt });
		// Ten minutes, give or take the second the token was signed in.
		expect(expiresAt - Date.now()).toBeGreaterThan((ACCESS_TOKEN_TTL_S - 5) * 1_000);
		expect(expiresAt - Date.now()).toBeLessThanOrEqual(ACCESS_TOKEN_TTL_S * 1_000);
	});

	test("refuses missing and malformed params as unauthenticated", async () => {
		for (const params of [undefined, null, {}, { token: "" }, { token: 42 }, { token: "not.a.jwt" }, "token"]) {
			expect(await refusal(authenticate(params, settings))).toMatchObject({ group: "user", code: "unauthenticated" });
		}
		const huge = { token: "a".repeat(10_000) };
		expect(await refusal(authenticate(huge, settings))).toMatchObject({ code: "unauthenticated" });
	});

	test("refuses a forgery: another secret, edited claims, no signature (alg none), a session cookie's token", async () => {
		const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
		const { token } = await signUserToken("access", alice, settings.authSecret);
		const [header, payload, signature] = token.split(".") as [string, string, string];
		const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
		const forgeries = [
			(await signUserToken("access", alice, otherSecret)).token,
			// The signature no longer matches the edited user id and role.
			`${header}.${part({ ...claims, sub: "u_victim", role: "operator" })}.${signature}`,
			`${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, sub: "u_victim" })}.`,
			(await signUserToken("session", alice, settings.authSecret)).token,
		];
		for (const forged of forgeries) {
			expect(await refusal(authenticate({ token: forged }, settings))).toMatchObject({ code: "unauthenticated" });
		}
	});

	test("an expired token is token_expired; an expired forgery is still unauthenticated", async () => {
		const expired = await signUserToken("access", alice, settings.authSecret, -1);
		expect(await refusal(authenticate({ token: expired.token }, settings))).toMatchObject({ code: "token_expired" });
		// The signature is checked before expiry: a stranger learns nothing from the answer.
		const forged = await signUserToken("access", alice, otherSecret, -1);
		expect(await refusal(authenticate({ token: forged.token }, settings))).toMatchObject({ code: "unauthenticated" });
	});

	test("a session cookie's token is not a connection token", async () => {
		const session = await signUserToken("session", alice, settings.authSecret);
		expect(await refusal(authenticate({ token: session.token }, settings))).toMatchObject({
			code: "unauthenticated",
		});
	});

	test("server tokens authenticate as the server, and only this secret makes them", async () => {
		const identity = await authenticate(await serverConnParams(settings), settings);
		expect(identity).toMatchObject({ userId: "server", role: "server" });
		const foreign = await signServerToken(otherSecret);
		expect(await refusal(authenticate({ token: foreign.token }, settings))).toMatchObject({
			code: "unauthenticated",
		});
	});
});
