// The runner API through the debug client: pools, envoys, runner configs,
// serverless health checks and metadata refresh, against the fixture server.

import { describe, expect, test } from "vitest";
import { RivetApiError } from "../../../tools/debug/errors.ts";
import {
	listEnvoys,
	listPoolNames,
	listRunnerConfigs,
	listRunnerNames,
	listRunners,
	refreshRunnerMetadata,
	serverlessHealthCheck,
} from "../../../tools/debug/runners.ts";
import { freePort } from "../../../tools/local/ports.ts";
import { fixtureAppUrl as appUrl, fixtureEngineUrl, fixturePool, gatewayAction, uniqueKey } from "../../support.ts";
import { freshActor, testEngine } from "./support.ts";

describe("runner configs and pools", () => {
	test("the project's pool is a serverless pool pointing at the app's /api/rivet", async () => {
		const pool = fixturePool();
		const configs = await listRunnerConfigs(testEngine(), { pools: [pool] });
		expect(Object.keys(configs)).toEqual([pool]);
		// The engine reports drain_on_version_upgrade inside `serverless`,
		// although the PUT body takes it beside `serverless`.
		expect(configs[pool]?.default).toMatchObject({
			serverless: { url: `${appUrl()}/api/rivet`, headers: { "x-rivet-token": "dev" }, drain_on_version_upgrade: true },
		});
		expect(await listPoolNames(testEngine())).toContain(pool);
	});

	test("filtering by an unknown pool returns no configs", async () => {
		expect(await listRunnerConfigs(testEngine(), { pools: [uniqueKey("nopool")] })).toEqual({});
	});

	test("the app server shows up as an envoy of the pool once it hosts an actor; legacy runners stay empty", async () => {
		const pool = fixturePool();
		// Creating an actor does not start it; a call does, and only a started
		// actor makes the engine open a serverless envoy on the app server.
		const { id } = await freshActor("tally", "envoy");
		expect(await gatewayAction(id, "getCount", [], fixtureEngineUrl())).toEqual({ status: 200, body: { output: 0 } });
		const envoys = await listEnvoys(testEngine(), { pool });
		expect(envoys.length).toBeGreaterThan(0);
		expect(envoys[0]).toMatchObject({ pool_name: pool, version: 1, stop_ts: null });
		expect(await listEnvoys(testEngine(), { pool: uniqueKey("nopool") })).toEqual([]);
		// rivetkit 2.3.19 servers are envoys; the pre-envoy runner routes list nothing.
		expect(await listRunners(testEngine(), { pool })).toEqual([]);
		expect(await listRunnerNames(testEngine())).toEqual([]);
	});
});

describe("serverless health check", () => {
	test("succeeds against the app server and reports its rivetkit version", async () => {
		expect(await serverlessHealthCheck(testEngine(), `${appUrl()}/api/rivet`)).toEqual({
			ok: true,
			version: "2.3.19",
		});
	});

	test("fails against a dead URL with the engine's reason", async () => {
		const dead = `http://127.0.0.1:${await freePort()}/api/rivet`;
		expect(await serverlessHealthCheck(testEngine(), dead)).toEqual({
			ok: false,
			message: "failed to reach serverless endpoint",
			metadata: { kind: "request_failed" },
		});
	});

	test("fails against a server that is up but is not a rivetkit endpoint", async () => {
		// Under /api/: other paths are the web app's SPA fallback, which answers 200 with index.html.
		const result = await serverlessHealthCheck(testEngine(), `${appUrl()}/api/not-rivet`);
		expect(result).toMatchObject({ ok: false, metadata: { kind: "non_success_status", status_code: 404 } });
	});
});

describe("refresh metadata", () => {
	test("succeeds for the serverless pool", async () => {
		await expect(refreshRunnerMetadata(testEngine(), fixturePool())).resolves.toBeUndefined();
	});

	test("an unknown pool is the engine's opaque 500, explained by a hint", async () => {
		const error = await refreshRunnerMetadata(testEngine(), uniqueKey("nopool")).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RivetApiError);
		expect(error).toMatchObject({ status: 500, group: "core", code: "internal_error" });
		expect((error as RivetApiError).hint).toContain("no serverless runner config");
	});
});
