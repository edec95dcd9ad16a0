// Vitest global setup: two stacks (an engine and an app server each, free
// ports, temporary data dirs). The product stack serves `src/server.ts`; the
// fixture stack serves the tests' own actors (test/fixtures/), so the harness
// suites pass whichever actors the product has, without seeing its actors.

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
	// Logs are kept with `FAULT_LOGS_DIR`, not printed (rivetkit 2.3.19 logs routine error lines).
	// Each stop fails if any process of its stack outlives it.
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
