// Sign-in is limited per client address: over real HTTP on a server of this
// file's own with the default limit (the suite's raises it), and in-process
// for the trusted proxy header.

import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { limitKey, UNKNOWN_CLIENT } from "../../src/auth/client-address.ts";
import { authRoutes, type RateLimitedResponse, type TokenResponse } from "../../src/auth/routes.ts";
import {
	DEFAULT_SIGN_IN_BURST,
	DEFAULT_SIGN_INS_PER_HOUR,
	DEV_OPERATOR_TOKEN,
	parseAuthSettings,
} from "../../src/auth/settings.ts";
import { type RunningAppServer, startAppServer } from "../../tools/local/app-server.ts";
import { freePort } from "../../tools/local/ports.ts";
import { type Fetcher, postSignIn } from "../support.ts";

const RETRY_AFTER_MS = Math.ceil(3_600_000 / DEFAULT_SIGN_INS_PER_HOUR);

/** A sign-in through `fetcher`, as the web app sends it. */
const signIn = async (fetcher: Fetcher, base: string, headers = {}) =>
	(await postSignIn(base, { name: "flood" }, headers, fetcher)).res;

async function expectRefused(res: Response): Promise<void> {
	expect(res.status).toBe(429);
	expect(res.headers.get("retry-after")).toBe(String(RETRY_AFTER_MS / 1_000));
	expect(await res.json()).toMatchObject({
		code: "rate_limited",
		retryAfterMs: RETRY_AFTER_MS,
	} satisfies Partial<RateLimitedResponse>);
	// A refusal creates nothing: no session.
	expect(res.headers.getSetCookie()).toEqual([]);
}

describe("a sign-in flood from one address", () => {
	let server: RunningAppServer;

	beforeAll(async () => {
		server = await startAppServer({
			port: await freePort(),
			env: {
				NODE_ENV: "development",
				// The default limit, whatever the parent's environment says.
				SIGN_IN_BURST: undefined,
				SIGN_INS_PER_HOUR: undefined,
				CLIENT_ADDRESS_HEADER: undefined,
				// No engine: sign-in does not need one.
				RIVET_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
			},
		});
	});
	afterAll(async () => {
		await server?.stop();
	});

	test(`is refused after ${DEFAULT_SIGN_IN_BURST} sign-ins with 429 rate_limited and Retry-After; operators still sign in`, async () => {
		const attempts = 3 * DEFAULT_SIGN_IN_BURST;
		const statuses: number[] = [];
		for (let i = 0; i < attempts; i++) {
			const res = await signIn(fetch, server.url);
			statuses.push(res.status);
			if (res.status === 429) await expectRefused(res);
			else expect(((await res.json()) as TokenResponse).token).toBeTruthy();
		}
		// Every one of the first burst was served (a minute's refill may add one on a slow machine).
		const served = statuses.filter((s) => s === 200).length;
		expect(statuses.slice(0, DEFAULT_SIGN_IN_BURST)).toEqual(Array(DEFAULT_SIGN_IN_BURST).fill(200));
		expect(served).toBeLessThanOrEqual(DEFAULT_SIGN_IN_BURST + 1);

		// Without a trusted header setting, a forwarding header the client made up changes nothing.
		await expectRefused(
			await signIn(fetch, server.url, { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.7" }),
		);

		// The operator proved a secret: not limited.
		const operator = await signIn(fetch, server.url, { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` });
		expect(operator.status).toBe(200);
		console.log(
			`sign-in flood: ${attempts + 1} attempts from one address, ${served} served, ${attempts + 1 - served} refused`,
		);
	});
});

describe("behind a trusted proxy (CLIENT_ADDRESS_HEADER)", () => {
	const app = (header: string) => {
		const routes = new Hono();
		routes.route("/api/auth", authRoutes(parseAuthSettings({ CLIENT_ADDRESS_HEADER: header, SIGN_IN_BURST: "2" })));
		return (req: Request) => routes.fetch(req);
	};

	test("x-forwarded-for: the entry the proxy appended (the last) names the client; earlier ones are the client's own", async () => {
		const fetcher = app("x-forwarded-for");
		const base = "http://fleet.test";
		const from = (xff: string) => signIn(fetcher, base, { "x-forwarded-for": xff });
		expect((await from("198.51.100.1")).status).toBe(200);
		// The client prepends made-up addresses: still the same client.
		expect((await from("1.1.1.1, 198.51.100.1")).status).toBe(200);
		expect((await from("2.2.2.2, 198.51.100.1")).status).toBe(429);
		// Another client has its own allowance.
		expect((await from("198.51.100.2")).status).toBe(200);
	});

	test("a single-address header (x-real-ip); IPv6 clients are counted per /64", async () => {
		const fetcher = app("x-real-ip");
		const base = "http://fleet.test";
		const from = (ip: string) => signIn(fetcher, base, { "x-real-ip": ip });
		expect((await from("2001:db8:1:2::1")).status).toBe(200);
		expect((await from("2001:db8:1:2:ffff::9")).status).toBe(200);
		expect((await from("2001:0db8:0001:0002:0000:0000:0000:0042")).status).toBe(429);
		expect((await from("2001:db8:1:3::1")).status).toBe(200);
	});

	test("address keys", () => {
		expect(limitKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
		expect(limitKey("192.0.2.1")).toBe("192.0.2.1");
		expect(limitKey("[2001:db8::1]")).toBe("2001:db8:0:0::/64");
		expect(limitKey("::1")).toBe("0:0:0:0::/64");
		expect(UNKNOWN_CLIENT).toBe("unknown");
	});
});
