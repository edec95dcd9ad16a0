// Headless Chromium for the web tests: Debian's `/usr/bin/chromium` (or the
// binary `CHROMIUM` names) driven by playwright-core (no browser download). Every page records console errors
// and uncaught exceptions, and a test fails if any page logged one.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { PROJECT_ROOT } from "../../tools/local/app-server.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM || "/usr/bin/chromium";
/** Screenshots land here (ignored by git) so a failed run can be looked at. */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, "test-results", "web");

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
/** A phone held upright (iPhone 12–15 CSS pixels). */
export const PHONE_VIEWPORT = { width: 390, height: 844 };

/** `chromium.launch` gives every browser a fresh temporary profile (user-data dir). */
export function launchChromium(): Promise<Browser> {
	return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Collects console errors and page errors from every page of a context. */
export class PageErrors {
	readonly messages: string[] = [];

	watch(context: BrowserContext): void {
		context.on("page", (page) => this.watchPage(page));
		for (const page of context.pages()) this.watchPage(page);
	}

	private watchPage(page: Page): void {
		page.on("console", (message) => {
			if (message.type() === "error") this.messages.push(`console: ${message.text()} (${page.url()})`);
		});
		page.on("pageerror", (error) => this.messages.push(`uncaught: ${error.message} (${page.url()})`));
	}
}

export async function screenshot(page: Page, name: string): Promise<void> {
	mkdirSync(SCREENSHOT_DIR, { recursive: true });
	await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
