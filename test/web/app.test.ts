// The web app in headless Chromium, built for a pool of its own and served by
// a production server process on the test engine. Each test uses it as a
// person would (labels and roles) and fails on any console error.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import type { RunningAppServer } from "../../tools/local/app-server.ts";
import { freePort } from "../../tools/local/ports.ts";
import { productionSecrets, startServerForPool } from "../../tools/local/stack.ts";
import { buildWebApp, isWebBuildCurrent } from "../../tools/local/web-build.ts";
import { engineUrl, uniqueKey } from "../support.ts";
import { launchChromium, PageErrors, PHONE_VIEWPORT, screenshot } from "./browser.ts";

/** Connecting includes the actor's first start on a busy machine. */
const LIVE_TIMEOUT_MS = 30_000;
/** How long a value may take to show up after the action that caused it. */
const UPDATE_TIMEOUT_MS = 10_000;
// example-actors:start (the README's removal block deletes these lines)
/** The longest wait before the web app reopens a connection (`REOPEN_MAX_MS` in web/src/lib/actor.ts). */
const REOPEN_MAX_MS = 15_000;
// example-actors:end

const pool = uniqueKey("web");
let outDir: string;
let server: RunningAppServer;
let browser: Browser;
const errors = new PageErrors();
const contexts: BrowserContext[] = [];

/** Production refuses to boot without its own secrets (src/auth/settings.ts). */
const secrets = productionSecrets();

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
			// Off by default in production; this server shows it so the panel is tested.
			FLEET_VIEW: "on",
			...secrets,
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

/** Runs before every page's scripts (a string: no DOM types here); an eval probe's `sample` is empty. */
const REPORT_CSP_VIOLATIONS = `
document.addEventListener("securitypolicyviolation", (event) => {
	const emptyFunctionProbe =
		event.blockedURI === "eval" && /^(\\(?function anonymous\\(\\s*\\) \\{\\s*\\}\\)?)?$/.test(event.sample);
	if (emptyFunctionProbe) return;
	console.error("CSP violation: " + event.effectiveDirective + " blocked " + event.blockedURI + " " + JSON.stringify(event.sample));
});
`;

/** A new browser (its own cookies) on the app, signed in through the form as `name`. */
async function openPage(
	query: string,
	options: {
		viewport?: { width: number; height: number };
		name?: string;
		operatorToken?: string;
		/** Another address of the same server (its origin is what chat checks). */
		baseUrl?: string;
		/** Install Playwright's clock (time still flows; the test can jump it forward). */
		clock?: boolean;
		/** Leave the sign-in form to the test. */
		signedOut?: boolean;
	} = {},
): Promise<Page> {
	const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {});
	contexts.push(context);
	errors.watch(context);
	if (options.clock) await context.clock.install();
	// What the CSP blocks becomes a console error, failing the test; only cbor-x's and
	// zod's `Function("")` probe for eval is expected (docs/web.md, security headers).
	await context.addInitScript({ content: REPORT_CSP_VIOLATIONS });
	const page = await context.newPage();
	await page.goto(`${options.baseUrl ?? server.url}/?${query}`);
	if (!options.signedOut) await signIn(page, options.name ?? "ada", options.operatorToken);
	return page;
}

async function signIn(page: Page, name: string, operatorToken?: string): Promise<void> {
	const form = page.getByRole("form", { name: "Sign in" });
	await form.getByLabel("Display name").fill(name);
	if (operatorToken !== undefined) {
		await form.getByText("Operator?").click();
		await form.getByLabel("Operator token").fill(operatorToken);
	}
	await form.getByRole("button", { name: "Sign in" }).click();
	await page.getByText(`Signed in as ${name}`).waitFor({ timeout: LIVE_TIMEOUT_MS });
}

// example-actors:start (the README's removal block deletes these lines)
/** Another tab of the same browser: the session cookie signs it in without the form. */
async function newTab(page: Page, query: string): Promise<Page> {
	const tab = await page.context().newPage();
	await tab.goto(`${server.url}/?${query}`);
	return tab;
}

const countOf = (page: Page) => page.getByRole("status", { name: "Count", exact: true });

// example-actors:end
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

// example-actors:start (the README's removal block deletes these lines)
describe("counter", () => {
	test("increments show in this tab and another; a delayed increment is listed, then lands in both", async () => {
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

		// The delayed increment, from the second tab, by keyboard: Enter submits the form.
		await tab.setViewportSize(PHONE_VIEWPORT);
		await tab.getByLabel("Add", { exact: true }).fill("3");
		// Long enough that the list and the count are read before it lands, even
		// on a loaded machine.
		await tab.getByLabel("after (seconds)").fill("10");
		await tab.getByLabel("after (seconds)").press("Enter");
		const pending = tab.getByRole("list", { name: "Scheduled changes" }).getByRole("listitem");
		await expect.poll(() => pending.allTextContents()).toEqual([expect.stringContaining("+3 at")]);
		expect(await countOf(tab).textContent()).toBe("6");
		await screenshot(tab, "counter-phone");

		await expect.poll(() => countOf(tab).textContent(), { timeout: UPDATE_TIMEOUT_MS + 10_000 }).toBe("9");
		await expect.poll(() => countOf(page).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("9");
		await expect.poll(() => pending.count()).toBe(0);

		// Someone else (another browser, another user) on the same link: the
		// counter is Ada's, because she wrote to it first. Bob is told so, cannot
		// click, and gets his own counter with one click.
		const bob = await openPage(query, { name: "bob" });
		await expect
			.poll(() => bob.getByRole("alert").allTextContents(), { timeout: UPDATE_TIMEOUT_MS })
			.toEqual([expect.stringContaining("This counter belongs to someone else")]);
		expect(await bob.getByRole("button", { name: "+1" }).isDisabled()).toBe(true);
		await bob.getByRole("button", { name: "Open my counter" }).click();
		await waitLive(bob, "Counter");
		await expect.poll(() => countOf(bob).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("0");
		await bob.getByRole("button", { name: "+1" }).click();
		await expect.poll(() => countOf(bob).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("1");
		expect(new URL(bob.url()).searchParams.get("counter")).toMatch(/^u_/);
		expect(await countOf(page).textContent()).toBe("9");
	});
});

// example-actors:end
describe("security headers", () => {
	test("pages carry them, the engine's routes are left as rivetkit sends them, and the app works under them", async () => {
		const page = await fetch(`${server.url}/?counter=headers`);
		const csp = page.headers.get("content-security-policy") ?? "";
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).toContain("script-src 'self' 'report-sample';");
		// The page's connections go to the engine, over HTTP and WebSocket.
		const engine = new URL(engineUrl());
		expect(csp).toMatch(new RegExp(`connect-src 'self' ${engine.origin} ws://${engine.host}(;|$)`));
		expect(page.headers.get("x-content-type-options")).toBe("nosniff");
		expect(page.headers.get("referrer-policy")).toBe("no-referrer");
		expect(page.headers.get("x-frame-options")).toBe("DENY");

		const metadata = await fetch(`${server.url}/api/rivet/metadata`);
		expect(metadata.status).toBe(200);
		expect(metadata.headers.get("content-security-policy")).toBeNull();

		// Signing in (and, with the examples, connecting to the engine and an
		// action), with the violation listener of `openPage` watching.
		const tab = await openPage(`counter=${uniqueKey("headers")}`);
		// example-actors:start (the README's removal block deletes these lines)
		await waitLive(tab, "Counter");
		await tab.getByRole("button", { name: "+1" }).click();
		await expect.poll(() => countOf(tab).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("1");
		// example-actors:end
		await screenshot(tab, "signed-in");
	});
});

describe("sign-in", () => {
	test("a wrong operator token is refused and said so; the form stays to try again", async () => {
		const page = await openPage("", { signedOut: true });
		const form = page.getByRole("form", { name: "Sign in" });
		await form.getByLabel("Display name").fill("mallory");
		await form.getByText("Operator?").click();
		await form.getByLabel("Operator token").fill("not-the-operator-token");
		// The browser logs the 403 itself; it is the answer this test expects.
		const expected = errors.messages.length;
		await form.getByRole("button", { name: "Sign in" }).click();
		await expect
			.poll(() => page.getByRole("alert").allTextContents(), { timeout: UPDATE_TIMEOUT_MS })
			.toEqual(["the operator token is not valid"]);
		// The console line reaches the test apart from the page's text: poll.
		await expect.poll(() => errors.messages.slice(expected)).toEqual([expect.stringMatching(/403/)]);
		errors.messages.splice(expected);
		await form.getByLabel("Operator token").fill("");
		await form.getByRole("button", { name: "Sign in" }).click();
		await page.getByText("Signed in as mallory").waitFor({ timeout: LIVE_TIMEOUT_MS });
		await expect.poll(() => page.getByRole("region", { name: "Fleet" }).textContent()).toContain("Operators only");
	});
});

// example-actors:start (the README's removal block deletes these lines)
describe("chat", () => {
	async function join(page: Page): Promise<void> {
		const form = page.getByRole("form", { name: "Join a room" });
		await form.getByRole("button", { name: "Join" }).click();
	}

	const messagesOf = (page: Page) => page.getByRole("list", { name: "Messages" }).getByRole("listitem");

	async function post(page: Page, text: string): Promise<void> {
		const composer = page.getByRole("form", { name: "Post a message" });
		const send = composer.getByRole("button", { name: "Send" });
		await expect.poll(() => send.isEnabled(), { timeout: LIVE_TIMEOUT_MS }).toBe(true);
		await composer.getByLabel("Message").fill(text);
		await composer.getByLabel("Message").press("Enter");
		// The field empties once the room has stored the message.
		await expect.poll(() => composer.getByLabel("Message").inputValue(), { timeout: UPDATE_TIMEOUT_MS }).toBe("");
	}

	test("a room that refuses the page on connect is shown as refused and not tried again and again", async () => {
		// The same server under another name: an origin ALLOWED_ORIGINS lacks,
		// which the room refuses in `createConnState` (origin_not_allowed).
		const room = uniqueKey("refusing");
		const page = await openPage(`room=${room}`, {
			baseUrl: server.url.replace("127.0.0.1", "localhost"),
			clock: true,
		});
		const roomSockets: string[] = [];
		page.on("websocket", (socket) => {
			if (socket.url().includes(room)) roomSockets.push(socket.url());
		});
		await join(page);
		await expect
			.poll(() => page.getByRole("alert").allTextContents(), { timeout: LIVE_TIMEOUT_MS })
			.toEqual([expect.stringContaining("does not accept chat from this page's address")]);
		// The page's clock jumps past the longest wait before a reopen (as if
		// the laptop lid closed for that long), then a round trip on another
		// connection of the page gives a reopen time to show; the refused room
		// is not asked again. `@rivetkit/react` alone would reopen it at once,
		// forever (web/src/lib/rivetkit-react-workaround.ts); the policy allows
		// the one immediate retry the hook makes before `enabled` goes off.
		await waitLive(page, "Counter");
		await page.clock.fastForward(REOPEN_MAX_MS + 1_000);
		await waitLive(page, "Counter");
		await page.getByRole("button", { name: "+1" }).click();
		await expect.poll(() => countOf(page).textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe("1");
		expect(roomSockets.length).toBeGreaterThanOrEqual(1);
		expect(roomSockets.length).toBeLessThanOrEqual(2);
	});

	test("two people in two browsers see each other's messages and presence", async () => {
		const query = `room=${uniqueKey("room")}`;
		const ada = await openPage(query, { name: "ada" });
		const bob = await openPage(query, { viewport: PHONE_VIEWPORT, name: "bob" });
		await join(ada);
		await waitLive(ada, "Chat");
		await join(bob);
		await waitLive(bob, "Chat");
		await expect.poll(() => ada.getByText(/^Online: ada, bob/).count(), { timeout: UPDATE_TIMEOUT_MS }).toBe(1);

		await post(ada, "hello from ada");
		await expect
			.poll(() => messagesOf(bob).allTextContents(), { timeout: UPDATE_TIMEOUT_MS })
			.toEqual([expect.stringMatching(/^ada .*hello from ada$/)]);
		await post(bob, "hi ada");
		await expect
			.poll(() => messagesOf(ada).allTextContents(), { timeout: UPDATE_TIMEOUT_MS })
			.toEqual([expect.stringContaining("hello from ada"), expect.stringContaining("hi ada")]);

		// A late joiner (Cleo's browser) gets the history from the room's database.
		const cleo = await openPage(query, { name: "cleo" });
		await join(cleo);
		await waitLive(cleo, "Chat");
		await expect.poll(() => messagesOf(cleo).count(), { timeout: UPDATE_TIMEOUT_MS }).toBe(2);
		await screenshot(ada, "chat");
		await screenshot(bob, "chat-phone");
	});
});

describe("jobs", () => {
	test("a batch runs across workers, with progress, and shows its results and its failed job", async () => {
		const page = await openPage("");
		const form = page.getByRole("form", { name: "New batch" });
		await form.getByLabel("Jobs").selectOption({ label: "Mixed, with one job that fails" });
		await form.getByLabel("How many").fill("4");
		await form.getByLabel("Workers").fill("2");
		await form.getByRole("button", { name: "Run batch" }).click();

		const done = "Done: 4 of 4 jobs finished, 1 failed";
		const progress = page.getByRole("status", { name: "Batch progress" });
		await expect.poll(() => progress.textContent(), { timeout: LIVE_TIMEOUT_MS }).toBe(done);
		// Round robin: w0 runs jobs 0 and 2, w1 runs 1 and 3 (the failing one).
		const workers = page.getByRole("list", { name: "Workers" }).getByRole("listitem");
		expect(await workers.allTextContents()).toEqual([
			expect.stringMatching(/^w0: 2 of 2$/),
			expect.stringMatching(/^w1: 2 of 2 \(1 failed\)$/),
		]);

		const rows = page.getByRole("table", { name: "Results" }).getByRole("row");
		await expect.poll(() => rows.count(), { timeout: UPDATE_TIMEOUT_MS }).toBe(5); // header + 4 jobs
		const cells = await rows.allTextContents();
		// π(200 000) = 17 984: a real result, computed by a worker.
		expect(cells.slice(1)).toEqual([
			expect.stringContaining("17,984 primes, largest 199,999"),
			expect.stringMatching(/sha256 [0-9a-f]{16}…/),
			expect.stringMatching(/\d+ words, \d+ unique/),
			expect.stringContaining("failed: validate: wordstats: the text contains no words"),
		]);

		// The batch id is in the address, so a reload shows the same batch.
		expect(new URL(page.url()).searchParams.get("batch")).toMatch(/^batch-/);
		await page.reload();
		await expect.poll(() => progress.textContent(), { timeout: LIVE_TIMEOUT_MS }).toBe(done);
		await expect.poll(() => rows.count(), { timeout: UPDATE_TIMEOUT_MS }).toBe(5);
		await screenshot(page, "jobs");
	});
});

// example-actors:end
describe("fleet", () => {
	test("is for operators: a visitor's page says so, an operator signed in through the form sees the page's actors", async () => {
		const counter = uniqueKey("fleet");
		const visitor = await openPage(`counter=${counter}`, { viewport: PHONE_VIEWPORT, name: "visitor" });
		// example-actors:start (the README's removal block deletes these lines)
		await waitLive(visitor, "Counter");
		// example-actors:end
		await expect
			.poll(() => visitor.getByRole("region", { name: "Fleet" }).textContent(), { timeout: UPDATE_TIMEOUT_MS })
			.toContain("Operators only");

		const operator = await openPage(`counter=${counter}`, { name: "olga", operatorToken: secrets.OPERATOR_TOKEN });
		await waitLive(operator, "Fleet");
		// example-actors:start (the README's removal block deletes these lines)
		const row = operator
			.getByRole("table", { name: /Counter/ })
			.getByRole("row")
			.filter({ hasText: counter });
		await expect.poll(() => row.textContent(), { timeout: UPDATE_TIMEOUT_MS }).toContain("awake");
		// example-actors:end
		await screenshot(operator, "fleet");
		await screenshot(visitor, "fleet-phone");
	});
});
