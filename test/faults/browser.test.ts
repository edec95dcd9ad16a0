// The web app under real faults, in a real browser, with no page reload.
//
// One stack for the file: an engine and an app server of its own (so they can
// be killed), a web build for its pool, and a TCP proxy (test/faults/tcp-proxy.ts)
// between the page and the engine: the server tells browsers to reach the
// engine at the proxy (`RIVET_PUBLIC_ENDPOINT`, read by the client from
// `/api/rivet/metadata`). A second app server, which hosts no actors, serves
// "the other tab": a browser that reaches the engine directly, so it can post
// while the first page's network is cut.
//
// The first page is signed in as an operator (so the Fleet panel and the
// worker rows are on) and live on all four panels. Each test injects one
// fault, clicks "+1" while the counter is down, has the other tab post, then
// polls until every panel is live again, and checks what a user would: the
// count is the actor's true count (the click applied once), every chat
// message is shown exactly once, the batch submitted before the fault
// finishes with every result, and the page logged no errors besides the
// browser's own lines about failed connections. Times are printed, not
// asserted.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createClient } from "rivetkit/client";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_STUCK_AFTER_MS } from "../../src/actors/jobs/contract.ts";
import { DEV_OPERATOR_TOKEN } from "../../src/auth/settings.ts";
import type { Registry } from "../../src/registry.ts";
import type { RunningAppServer } from "../../tools/local/app-server.ts";
import { startEngine } from "../../tools/local/engine.ts";
import { freePort } from "../../tools/local/ports.ts";
import { type Stack, startServerForPool, startStack } from "../../tools/local/stack.ts";
import { buildWebApp } from "../../tools/local/web-build.ts";
import { uniqueKey } from "../support.ts";
import { launchChromium, PageErrors, screenshot } from "../web/browser.ts";
import { faultCounts } from "./counters.ts";
import { reportLogs } from "./logs.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

/** Generous: an actor's first start, or a restarted engine, on a loaded two-core machine. */
const RECOVERY_TIMEOUT_MS = 60_000;
/** How long a proxy fault lasts. */
const NETWORK_FAULT_MS = 10_000;
/** How long the app server stays stopped in the long outage. */
const SERVER_OUTAGE_MS = 60_000;
/** How long to watch for a panel to say "down" after a fault; printed, not asserted. */
const DOWN_WATCH_MS = 15_000;
const POLL_MS = 100;
/**
 * The batch each fault case submits first, which must still be running when
 * the page is first looked at and when the fault hits. 6 prime counts were
 * bound by engine round trips, and a wasm server once finished all of them
 * before the test saw `Running:`. Hash chains are bound by the compute
 * pool's threads, the same on both runtimes: 20 of them take about 3
 * CPU-seconds and twice as many steps. With 50, the batch submitted before
 * an engine kill -9 was still at 17 of 50 at the test's deadline on a loaded
 * machine (load average 9), so the batch is no longer than it needs to be.
 */
const FAULT_BATCH_PRESET = "Hash chains (SHA-256)";
const FAULT_BATCH_JOBS = 20;
const PANELS = ["Counter", "Chat", "Batch", "Fleet"] as const;
/** Console lines the browser itself writes when a connection fails: expected during faults. */
const EXPECTED_CONSOLE =
	/WebSocket connection to .* failed|net::ERR_|Failed to load resource|status of 50[234]|failed to (re)?connect/;

const pool = uniqueKey("webfaults");
const counterKey = uniqueKey("count");
const room = uniqueKey("room");
let stack: Stack;
let proxy: TcpProxy;
let other: RunningAppServer;
let outDir: string;
let browser: Browser;
let failed = false;
const contexts: BrowserContext[] = [];
const errors = new PageErrors();
let page: Page;
let tab: Page;
let serverPort: number;
let otherPort: number;
let enginePort: number;
let clicks = 0;
let posts = 0;
/** What this file injected and found, summed by the suite's summary line (test/faults/setup.ts). */
const counts = faultCounts("browser");
const browserCounts = { injected: 0, recoveriesMs: [] as number[], lost: 0, duplicated: 0 };
counts.browser = browserCounts;
const recoveries = browserCounts.recoveriesMs;

const serverEnv = () => ({
	RIVET_PUBLIC_ENDPOINT: proxy.url,
	WEB_DIST: outDir,
	FLEET_VIEW: "on",
	// Chat connections come from pages of both servers.
	ALLOWED_ORIGINS: `http://127.0.0.1:${serverPort},http://127.0.0.1:${otherPort}`,
});
const startServer = () =>
	startServerForPool(stack.engine.url, {
		pool,
		dataDir: stack.dataDir,
		port: serverPort,
		configure: false,
		env: serverEnv(),
	});

beforeAll(async () => {
	outDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-web-faults-"));
	const proxyPort = await freePort();
	const [launched] = await Promise.all([launchChromium(), buildWebApp({ outDir, pool, logFile: "/dev/null" })]);
	browser = launched;
	// The stack's server learns the proxy's address before the proxy exists; it only hands it to browsers.
	stack = await startStack({
		pool,
		serverEnv: { RIVET_PUBLIC_ENDPOINT: `http://127.0.0.1:${proxyPort}`, WEB_DIST: outDir, FLEET_VIEW: "on" },
	});
	serverPort = Number(new URL(stack.server.url).port);
	enginePort = Number(new URL(stack.engine.url).port);
	otherPort = await freePort();
	proxy = await startTcpProxy({ port: proxyPort, target: { host: "127.0.0.1", port: enginePort } });
	// Replaced by one that also lets the other server's pages into chat rooms.
	await stack.server.stop();
	stack.server = await startServer();
	other = await startServerForPool(stack.engine.url, {
		pool,
		dataDir: stack.dataDir,
		port: otherPort,
		configure: false,
		env: { ...serverEnv(), RIVET_PUBLIC_ENDPOINT: stack.engine.url },
	});
}, 180_000);

afterEach(({ task }) => {
	failed ||= task.result?.state === "fail";
});

afterAll(async () => {
	await Promise.all(contexts.map((c) => c.close().catch(() => {})));
	await browser?.close();
	await proxy?.close();
	await other?.stop();
	if (stack) {
		reportLogs(stack.dataDir, "browser faults", failed);
		await stack.stop();
	}
	if (outDir) rmSync(outDir, { recursive: true, force: true });
}, 120_000);

/**
 * A client that reads the actors' truth directly from the engine, past the
 * proxy. It signs in as an operator: the counter belongs to the page's user
 * (its first writer), and only its owner and operators may read it.
 */
async function truth() {
	const res = await fetch(`${other.url}/api/auth/sign-in`, {
		method: "POST",
		headers: { "content-type": "application/json", authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
		body: JSON.stringify({ name: "checker" }),
	});
	const { token } = (await res.json()) as { token: string };
	const client = createClient<Registry>({ endpoint: stack.engine.url, poolName: pool });
	return {
		count: () => client.counter.getOrCreate([counterKey], { params: { token } }).getCount(),
		messages: async () =>
			(await client.chatRoom.getOrCreate([room], { params: { token } }).history({ limit: 100 })).messages.map(
				(m) => m.text,
			),
		dispose: () => client.dispose(),
	};
}

async function openSignedIn(origin: string, name: string, operator: boolean): Promise<Page> {
	const context = await browser.newContext();
	contexts.push(context);
	errors.watch(context);
	const p = await context.newPage();
	if (process.env.WEB_FAULTS_DEBUG) {
		p.on("console", (m) =>
			console.log(`${new Date().toISOString().slice(11, 23)} ${name} ${m.type()}: ${m.text().slice(0, 300)}`),
		);
	}
	await p.goto(`${origin}/?counter=${counterKey}&room=${room}`);
	const form = p.getByRole("form", { name: "Sign in" });
	await form.getByLabel("Display name").fill(name);
	if (operator) {
		await form.getByText("Operator?").click();
		await form.getByLabel("Operator token").fill(DEV_OPERATOR_TOKEN);
	}
	await form.getByRole("button", { name: "Sign in" }).click();
	await p.getByRole("form", { name: "Join a room" }).getByRole("button", { name: "Join" }).click();
	return p;
}

/** Every panel's badge, read in one go: `{ Counter: "live", ... }`. */
async function badges(p: Page): Promise<Record<string, string>> {
	const labels = await p.getByRole("status").evaluateAll((els) => els.map((el) => el.getAttribute("aria-label") ?? ""));
	const out: Record<string, string> = {};
	for (const label of labels) {
		const [panel, status] = label.split(" connection: ");
		if (panel && status && (PANELS as readonly string[]).includes(panel)) out[panel] = status;
	}
	return out;
}

async function allLive(p: Page, deadlineMs = RECOVERY_TIMEOUT_MS): Promise<void> {
	await expect
		.poll(async () => Object.values(await badges(p)).filter((s) => s === "live").length, { timeout: deadlineMs })
		.toBe(PANELS.length);
}

async function submitBatch(p: Page, jobs: number, preset = "Count primes"): Promise<void> {
	const form = p.getByRole("form", { name: "New batch" });
	await form.getByLabel("Jobs").selectOption({ label: preset });
	await form.getByLabel("How many").fill(String(jobs));
	await form.getByLabel("Workers").fill("3");
	await form.getByRole("button", { name: "Run batch" }).click();
}

async function post(p: Page, text: string): Promise<void> {
	const composer = p.getByRole("form", { name: "Post a message" });
	const send = composer.getByRole("button", { name: "Send" });
	await expect.poll(() => send.isEnabled(), { timeout: RECOVERY_TIMEOUT_MS }).toBe(true);
	await composer.getByLabel("Message").fill(text);
	await composer.getByLabel("Message").press("Enter");
	await expect.poll(() => composer.getByLabel("Message").inputValue(), { timeout: RECOVERY_TIMEOUT_MS }).toBe("");
	posts += 1;
}

interface Timeline {
	/** ms after the fault until each panel first showed something other than "live". */
	down: Record<string, number>;
	/** ms after the fault ended (restore) until each panel showed "live" again. */
	live: Record<string, number>;
}

/**
 * Runs one fault: `inject` breaks something, `restore` (after `holdMs` of
 * watching, or at once) mends it. Meanwhile: "+1" once the counter says it is
 * down, and the other tab posts. Then every panel must be live again and the
 * page must show the actors' truth.
 */
async function runFault(
	name: string,
	fault: { inject: () => Promise<void>; holdMs: number; restore: () => Promise<void>; otherTabDuringFault: boolean },
): Promise<void> {
	await allLive(page);
	await submitBatch(page, FAULT_BATCH_JOBS, FAULT_BATCH_PRESET);
	const jobs = FAULT_BATCH_JOBS;
	// The batch is in flight and its panel connected before the fault: the
	// fault then hits a running batch and a live connection, every run.
	await expect
		.poll(() => page.getByRole("status", { name: "Batch progress" }).textContent(), {
			timeout: RECOVERY_TIMEOUT_MS,
		})
		.toMatch(/^Running: /);
	await allLive(page);
	const timeline: Timeline = { down: {}, live: {} };
	const t0 = Date.now();
	await fault.inject();
	browserCounts.injected += 1;
	const text = `${name}: from the other tab`;
	// The other tab posts while the fault lasts when it can (proxy faults: it
	// bypasses the proxy), else as soon as the actor is back.
	const otherPost = fault.otherTabDuringFault ? post(tab, text) : null;
	// Watch the fault window: who went down, and when.
	let clicked = false;
	const holdUntil = t0 + Math.max(fault.holdMs, 0);
	const watchUntil = t0 + Math.max(fault.holdMs, DOWN_WATCH_MS);
	while (Date.now() < (clicked ? holdUntil : watchUntil)) {
		const now = await badges(page);
		for (const [panel, status] of Object.entries(now)) {
			if (status !== "live" && timeline.down[panel] === undefined) timeline.down[panel] = Date.now() - t0;
		}
		if (!clicked && timeline.down.Counter !== undefined) {
			// A click while the counter is down: it waits in the outbox.
			await page.getByRole("button", { name: "+1" }).click();
			clicks += 1;
			clicked = true;
		}
		if (clicked && Date.now() >= holdUntil) break;
		await new Promise((r) => setTimeout(r, POLL_MS));
	}
	if (!clicked) {
		// The counter never said it was down: the click still has to land exactly once.
		await page.getByRole("button", { name: "+1" }).click();
		clicks += 1;
	}
	const tRestore = Date.now();
	await fault.restore();
	if (otherPost) await otherPost;
	else await post(tab, text);

	// Recovery: every panel live again, without a click.
	const deadline = tRestore + RECOVERY_TIMEOUT_MS;
	while (Object.keys(timeline.live).length < PANELS.length) {
		const now = await badges(page);
		for (const [panel, status] of Object.entries(now)) {
			if (status === "live" && timeline.live[panel] === undefined) timeline.live[panel] = Date.now() - tRestore;
		}
		if (process.env.WEB_FAULTS_DEBUG) console.log(`recovering: proxy accepted ${proxy.accepted}`, JSON.stringify(now));
		if (Date.now() > deadline) {
			await screenshot(page, `fault-${name}`);
			throw new Error(
				`${name}: not every panel was live again within ${RECOVERY_TIMEOUT_MS} ms: ${JSON.stringify(now)}`,
			);
		}
		await new Promise((r) => setTimeout(r, POLL_MS));
	}
	recoveries.push(Math.max(...Object.values(timeline.live)));
	const fmt = (r: Record<string, number>) =>
		PANELS.map((p) => `${p} ${r[p] === undefined ? "never" : `${(r[p] / 1_000).toFixed(1)} s`}`).join(", ");
	console.log(`[${name}] down after: ${fmt(timeline.down)}\n[${name}] live again after restore: ${fmt(timeline.live)}`);

	const check = await truth();
	try {
		// The counter: the outbox empties, and the shown count is the actor's count, every click once.
		await expect
			.poll(() => page.getByRole("list", { name: "Waiting to be sent" }).count(), { timeout: RECOVERY_TIMEOUT_MS })
			.toBe(0);
		const actual = await check.count();
		if (actual < clicks) browserCounts.lost += clicks - actual;
		if (actual > clicks) browserCounts.duplicated += actual - clicks;
		expect(actual).toBe(clicks);
		await expect
			.poll(() => page.getByRole("status", { name: "Count", exact: true }).textContent(), {
				timeout: RECOVERY_TIMEOUT_MS,
			})
			.toBe(String(clicks));

		// Chat: the room's messages, each exactly once, the other tab's included.
		const stored = await check.messages();
		expect(stored).toContain(text);
		expect(stored).toHaveLength(posts);
		const shown = () =>
			page.getByRole("list", { name: "Messages" }).getByRole("listitem").locator(".text").allTextContents();
		await expect.poll(shown, { timeout: RECOVERY_TIMEOUT_MS }).toEqual(stored);
	} finally {
		check.dispose();
	}

	// Jobs: the batch submitted before the fault finishes with every result.
	// A job lost with a killed engine or server is re-sent by the
	// coordinator's sweep once it has been in flight DEFAULT_STUCK_AFTER_MS,
	// so the batch may take that long on top of the recovery itself.
	await expect
		.poll(() => page.getByRole("status", { name: "Batch progress" }).textContent(), {
			timeout: DEFAULT_STUCK_AFTER_MS + RECOVERY_TIMEOUT_MS,
		})
		.toBe(`Done: ${jobs} of ${jobs} jobs finished`);
	await expect
		.poll(() => page.getByRole("table", { name: "Results" }).getByRole("row").count(), {
			timeout: RECOVERY_TIMEOUT_MS,
		})
		.toBe(jobs + 1);

	const unexpected = errors.messages.splice(0).filter((m) => !EXPECTED_CONSOLE.test(m));
	expect(unexpected, "the page logged errors").toEqual([]);
}

describe("the web app under faults", () => {
	test("opens live on all four panels, from two browsers", async () => {
		page = await openSignedIn(stack.server.url, "ops", true);
		tab = await openSignedIn(other.url, "bob", false);
		await submitBatch(page, 2);
		await allLive(page).catch(async (error: unknown) => {
			await screenshot(page, "faults-start");
			throw new Error(`${String(error)}: ${JSON.stringify(await badges(page))}`);
		});
		await post(page, "before any fault");
		await page.getByRole("button", { name: "+1" }).click();
		clicks += 1;
		await expect.poll(() => page.getByRole("status", { name: "Count", exact: true }).textContent()).toBe("1");
		expect(errors.messages.splice(0)).toEqual([]);
	}, 120_000);

	test("the app server is killed (kill -9) and restarted", async () => {
		await runFault("server kill -9", {
			inject: async () => {
				await stack.server.kill();
			},
			holdMs: 0,
			restore: async () => {
				stack.server = await startServer();
			},
			otherTabDuringFault: false,
		});
	}, 180_000);

	test("the engine is killed and restarted on the same data dir", async () => {
		await runFault("engine kill -9", {
			inject: () => stack.engine.kill(),
			holdMs: 0,
			restore: async () => {
				stack.engine = await startEngine({ port: enginePort, dataDir: path.join(stack.dataDir, "engine") });
			},
			otherTabDuringFault: false,
		});
	}, 180_000);

	test("the network between page and engine is reset for 10 s", async () => {
		await runFault("network reset", {
			inject: async () => proxy.setMode("reset"),
			holdMs: NETWORK_FAULT_MS,
			restore: async () => proxy.setMode("pass"),
			otherTabDuringFault: true,
		});
	}, 180_000);

	test("the network between page and engine stalls silently for 10 s", async () => {
		await runFault("network stall", {
			inject: async () => proxy.setMode("stall"),
			holdMs: NETWORK_FAULT_MS,
			restore: async () => proxy.setMode("pass"),
			otherTabDuringFault: true,
		});
	}, 180_000);

	test("the app server is stopped for 60 s, then started again", async () => {
		await runFault("server down 60 s", {
			inject: async () => {
				await stack.server.stop();
			},
			holdMs: SERVER_OUTAGE_MS,
			restore: async () => {
				stack.server = await startServer();
			},
			otherTabDuringFault: false,
		});
	}, 240_000);
});
