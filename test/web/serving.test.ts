// The Hono app serving the built web app: files, the SPA fallback, cache
// headers, and the API routes it must never shadow. In-process
// (`app.request()`), against a small stand-in build in a temporary folder.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../../src/app.ts";
import { registry } from "../../src/registry.ts";
import { webApp } from "../../src/web-assets.ts";
import { engineUrl } from "../support.ts";

const INDEX_HTML = '<!doctype html><html><body><div id="root"></div></body></html>';
const ASSET = "assets/index-abc123.js";

let dist: string;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
	dist = mkdtempSync(path.join(tmpdir(), "actor-fleet-dist-"));
	mkdirSync(path.join(dist, "assets"));
	writeFileSync(path.join(dist, "index.html"), INDEX_HTML);
	writeFileSync(path.join(dist, ASSET), "console.log('app');\n");
	writeFileSync(path.join(dist, "robots.txt"), "User-agent: *\n");
	// env.ts reads process.env once, when the first app is created (each test file has its own modules).
	process.env.RIVET_ENDPOINT = engineUrl();
	process.env.WEB_DIST = dist;
	process.env.FLEET_VIEW = "off";
	app = createApp(registry);
});

afterAll(() => rmSync(dist, { recursive: true, force: true }));

describe("the built app", () => {
	test("/ is index.html and other files are revalidated on every visit; hashed assets are cached for a year", async () => {
		const cases: Array<[string, string, string]> = [
			["/", "text/html", "no-cache"],
			["/robots.txt", "text/plain", "no-cache"],
			[`/${ASSET}`, "javascript", "public, max-age=31536000, immutable"],
		];
		for (const [file, type, cacheControl] of cases) {
			const res = await app.request(file);
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toContain(type);
			expect(res.headers.get("cache-control")).toBe(cacheControl);
		}
		expect(await (await app.request("/")).text()).toBe(INDEX_HTML);
		expect(await (await app.request("/robots.txt")).text()).toContain("User-agent");
	});

	test("page paths fall back to index.html (SPA), missing files do not", async () => {
		const page = await app.request("/rooms/lobby?user=ada");
		expect(page.status).toBe(200);
		expect(await page.text()).toBe(INDEX_HTML);

		const missing = await app.request("/assets/gone-123.js");
		expect(missing.status).toBe(404);
		expect(await missing.json()).toMatchObject({ code: "not_found" });
	});

	test("paths that climb out of the folder are refused", async () => {
		const res = await app.request("/%2e%2e/package.json");
		expect(res.status).toBe(404);
		expect(await res.text()).not.toContain('"name"');
	});

	test("API routes keep their JSON answers", async () => {
		const unknown = await app.request("/api/nope");
		expect(unknown.status).toBe(404);
		expect(await unknown.json()).toMatchObject({ code: "not_found" });

		const metadata = await app.request("/api/rivet/metadata");
		expect(await metadata.json()).toMatchObject({ runtime: "rivetkit" });

		const health = await app.request("/health");
		expect(await health.json()).toMatchObject({ app: { status: "ok" } });

		const post = await app.request("/", { method: "POST" });
		expect(post.status).toBe(404);
		expect(await post.json()).toMatchObject({ code: "not_found" });
	});
});

describe("the fleet view", () => {
	test("when off, /api/fleet says so without listing anything", async () => {
		const res = await app.request("/api/fleet");
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ enabled: false, groups: [] });
	});
});

describe("before the app is built", () => {
	test("pages say how to build it", async () => {
		const bare = new Hono().use(webApp(path.join(dist, "does-not-exist")));
		const res = await bare.request("/");
		expect(res.status).toBe(404);
		expect(await res.text()).toContain("npm run build");
	});
});
