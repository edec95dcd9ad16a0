// `GET /api/fleet`, in-process (`app.request()`) against the fixture engine
// (test/setup/global.ts), whose actors this suite controls whatever the
// product registers: the actors that exist, their status, and nothing secret.

import { beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../../src/app.ts";
import { DEV_OPERATOR_TOKEN } from "../../src/auth/settings.ts";
import { parseEnv } from "../../src/env.ts";
import { registry } from "../../src/registry.ts";
import { fixtureClient, fixtureEngineUrl, uniqueKey } from "../support.ts";

let app: ReturnType<typeof createApp>;
const ENGINE_TOKEN = "fleet-test-engine-token";

beforeAll(async () => {
	// env.ts (when the first app is created) and the debug client (per call) read process.env. The
	// local engine accepts any token, so one is set to prove it stays here.
	const url = new URL(fixtureEngineUrl());
	url.username = "default";
	url.password = ENGINE_TOKEN;
	process.env.RIVET_ENDPOINT = url.toString();
	app = createApp(registry);
});

interface FleetBody {
	enabled: boolean;
	groups: Array<{ name: string; displayName: string; actors: Array<{ key: string; status: string }>; more: boolean }>;
}

describe("GET /api/fleet", () => {
	test("lists every actor kind, and an actor a client just used as awake", async () => {
		const key = uniqueKey("fleet");
		await fixtureClient().tally.getOrCreate([key]).increment(1);

		const res = await app.request("/api/fleet", { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } });
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("no-store");
		const text = await res.text();
		const body = JSON.parse(text) as FleetBody;
		expect(body.enabled).toBe(true);
		expect(body.groups.map((g) => g.name).sort()).toEqual(["callerProbe", "notebook", "pipeline", "tally"]);
		const tallies = body.groups.find((g) => g.name === "tally");
		expect(tallies?.displayName).toBe("Tally");
		expect(tallies?.actors.find((a) => a.key === key)).toMatchObject({ key, status: "awake" });

		// Only id, key, status and time per actor: no token, no engine internals.
		expect(text).not.toContain(ENGINE_TOKEN);
		expect(text).not.toMatch(/namespace_id|runner_name_selector|"error"/);
	});
});

describe("FLEET_VIEW", () => {
	test("is on by default outside production, off in production, and can be set either way", () => {
		const production = {
			NODE_ENV: "production",
			RIVET_RUNNER_VERSION: "1",
			AUTH_SECRET: "a".repeat(32),
			RIVET_START_SECRET: "s".repeat(32),
		};
		expect(parseEnv({}).fleetView).toBe(true);
		expect(parseEnv(production).fleetView).toBe(false);
		expect(parseEnv({ ...production, FLEET_VIEW: "on" }).fleetView).toBe(true);
		expect(parseEnv({ FLEET_VIEW: "off" }).fleetView).toBe(false);
		expect(() => parseEnv({ FLEET_VIEW: "yes" })).toThrow(/FLEET_VIEW/);
	});
});
