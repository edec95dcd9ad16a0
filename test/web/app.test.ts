// The web app in a real browser, against the production server.
//
// Once per file: build `web/` into a temporary folder for a pool of its own,
// start a server process in production mode that serves that build and hosts
// the pool's actors on the test engine, and launch headless Chromium. Each
// test then uses the app as a person would (by labels and roles) and fails on
// any console error.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import type { RunningAppServer } from "../../src/local/app-server.ts";
import { freePort } from "../../src/local/ports.ts";
import { startServerForPool } from "../../src/local/stack.ts";
import { buildWebApp, isWebBuildCurrent } from "../../src/local/web-build.ts";
import { engineUrl, uniqueKey } from "../support.ts";
import { launchChromium, PageErrors, PHONE_VIEWPORT, screenshot } from "./browser.ts";

/** Connecting includes the actor's first start on a busy machine. */
const LIVE_TIMEOUT_MS = 30_000;
/** How long a value may take to show up after the action that caused it. */
const UPDATE_TIMEOUT_MS = 10_000;

const pool = uniqueKey("web");
let outDir: string;
let server: RunningAppServer;
let browser: Browser;
const errors = new PageErrors();
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	outDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-web-"));
	const dataDir = inject("dataDir");
	const port = await freePort();
	const [launched] = await Promise.all([
		launchChromium(),
		buildWebApp({ outDir, pool, logFile: path.join(dataDir, "web-build.log") }),
	]);
	browser = launched;
	server = await startServerForPool(engineUrl(), {
		pool,
		dataDir,
		port,
		env: {
			NODE_ENV: "production",
			WEB_DIST: outDir,
			ALLOWED_ORIGINS: `http://127.0.0.1:${port}`,
		},
	});
});

afterEach(async () => {
	await Promise.all(contexts.splice(0).map((c) => c.close()));
	const logged = errors.messages.splice(0);
	expect(logged, "the page logged errors").toEqual([]);
});

afterAll(async () => {
	await browser?.close();
	await server?.stop();
	if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function openPage(query: string, options: { viewport?: { width: number; height: number } } = {}): Promise<Page> {
	const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {});
	contexts.push(context);
	errors.watch(context);
	const page = await context.newPage();
	await page.goto(`${server.url}/?${query}`);
	return page;
}

async function newTab(page: Page, query: string): Promise<Page> {
	const tab = await page.context().newPage();
	await tab.goto(`${server.url}/?${query}`);
	return tab;
}

const countOf = (page: Page) => page.getByRole("status", { name: "Count", exact: true });

async function waitLive(page: Page, panel: string): Promise<void> {
	await page
		.getByRole("status", { name: `${panel} connection: live` })
		.waitFor({ state: "visible", timeout: LIVE_TIMEOUT_MS });
}

describe("the build", () => {
	test("is current for its pool and stale for another", () => {
		expect(isWebBuildCurrent({ outDir, pool })).toBe(true);
		expect(isWebBuildCurrent({ outDir, pool: `${pool}-other` })).toBe(false);
	});
});

describe("counter", () => {
	test("an increment shows the new value, in this tab and in another one", async () => {
		const query = `counter=${uniqueKey("browser")}`;
		const page = await openPage(query);
		await waitLive(page, "Counter");
		await expect.poll(() => countOf(page).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("0");

		await page.getByRole("button", { name: "+5" }).click();
		await expect.poll(() => countOf(page).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("5");

		// A second tab on the same counter starts at the current value and
		// follows changes made in the first one through the `newCount` event.
		const tab = await newTab(page, query);
		await waitLive(tab, "Counter");
		await expect.poll(() => countOf(tab).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("5");
		await page.getByRole("button", { name: "+1" }).click();
		await expect.poll(() => countOf(tab).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("6");
		await screenshot(page, "counter");
	});

	test("a delayed increment is listed, then lands in every tab", async () => {
		const query = `counter=${uniqueKey("later")}`;
		const page = await openPage(query, { viewport: PHONE_VIEWPORT });
		await waitLive(page, "Counter");
		const tab = await newTab(page, query);
		await waitLive(tab, "Counter");
		await expect.poll(() => countOf(page).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("0");

		await page.getByLabel("Add", { exact: true }).fill("3");
		await page.getByLabel("after (seconds)").fill("2");
		// Keyboard only: Enter in the form submits it.
		await page.getByLabel("after (seconds)").press("Enter");
		const pending = page.getByRole("list", { name: "Scheduled changes" }).getByRole("listitem");
		await expect.poll(() => pending.allTextContents()).toEqual([expect.stringContaining("+3 at")]);
		expect(await countOf(page).textContent()).toBe("0");

		await expect.poll(() => countOf(page).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("3");
		await expect.poll(() => countOf(tab).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("3");
		await expect.poll(() => page.getByRole("list", { name: "Scheduled changes" }).count()).toBe(0);
		await screenshot(page, "counter-phone");
	});
});
