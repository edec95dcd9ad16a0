// Vitest global setup: two real Rivet Engines, each with one app server, on
// free ports with temporary data dirs, stopped by PID at the end.
//
// - The product stack serves `src/registry.ts` through `src/server.ts`: the
//   product's own tests (app, auth, actors) use it.
// - The fixture stack serves the tests' own actors (test/fixtures/) through
//   the same app: the harness suites (debug client, `inspect`, launcher) use
//   it, so they pass whichever actors the product has. An engine of its own,
//   so neither stack's actors show up in the other's listings.

import type { TestProject } from "vitest/node";
import { type Stack, startStack } from "../../tools/local/stack.ts";
import { FIXTURE_SERVER_ENTRY } from "../fixtures/entry.ts";
import { keepLogs } from "./logs.ts";

declare module "vitest" {
	export interface ProvidedContext {
		engineUrl: string;
		appUrl: string;
		pool: string;
		dataDir: string;
		fixtureEngineUrl: string;
		fixtureAppUrl: string;
		fixturePool: string;
		fixtureDataDir: string;
	}
}

let product: Stack | undefined;
let fixtures: Stack | undefined;

export async function setup(project: TestProject): Promise<void> {
	const [started, startedFixtures] = await Promise.allSettled([
		startStack(),
		startStack({ entry: FIXTURE_SERVER_ENTRY }),
	]);
	if (started.status === "rejected" || startedFixtures.status === "rejected") {
		// One failed: the other must not outlive the run.
		await Promise.all([started, startedFixtures].map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
		throw started.status === "rejected" ? started.reason : (startedFixtures as PromiseRejectedResult).reason;
	}
	product = started.value;
	fixtures = startedFixtures.value;
	project.provide("engineUrl", product.engine.url);
	project.provide("appUrl", product.server.url);
	project.provide("pool", product.pool);
	project.provide("dataDir", product.dataDir);
	project.provide("fixtureEngineUrl", fixtures.engine.url);
	project.provide("fixtureAppUrl", fixtures.server.url);
	project.provide("fixturePool", fixtures.pool);
	project.provide("fixtureDataDir", fixtures.dataDir);
}

export async function teardown(): Promise<void> {
	// With `FAULT_LOGS_DIR` set, the run's server and engine logs are kept
	// there. Not printed: rivetkit 2.3.19 logs error lines in routine runs
	// (e.g. "failed to sync scheduled actor alarm" as actors go to sleep).
	// Each stop stops its server, then its engine, and fails if any process of it outlives it.
	const stops: Promise<void>[] = [];
	if (product) {
		keepLogs(product.dataDir, "main suite");
		stops.push(product.stop());
	}
	if (fixtures) {
		keepLogs(fixtures.dataDir, "main suite fixtures");
		stops.push(fixtures.stop());
	}
	await Promise.all(stops);
}
