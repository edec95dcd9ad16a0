// Serves the built web app (`web/dist`, see `web/vite.config.ts`) from the
// Hono server, with an SPA fallback: any GET for a page path (no file
// extension) that is not a file gets `index.html`, so links such as
// `/?counter=demo` or a future `/rooms/lobby` survive a reload.
//
// `/api/*` and `/health` are never answered here: an unknown API path stays a
// JSON 404 from the app's `notFound`. The folder is looked up per request, so
// a build made after the server started is served without a restart.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { MiddlewareHandler } from "hono";

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Vite puts content-hashed files here: they never change, so caches may keep them. */
const HASHED_ASSETS_PREFIX = "/assets/";
const IMMUTABLE_CACHE = "public, max-age=31536000, immutable";
/** `index.html` names the current hashed files, so browsers must revalidate it. */
const REVALIDATE = "no-cache";

/** `WEB_DIST` as an absolute path; a relative one is taken from the project root. */
export function resolveWebDist(webDist: string): string {
	return path.resolve(PROJECT_ROOT, webDist);
}

export function webApp(webDist: string): MiddlewareHandler {
	const root = resolveWebDist(webDist);
	const indexFile = path.join(root, "index.html");
	// Created on first use: `serveStatic` complains on the console when its
	// folder is missing, which is normal before the first build.
	let handlers: { files: MiddlewareHandler; index: MiddlewareHandler } | undefined;
	const noop = async () => {};

	return async (c, next) => {
		if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
		if (c.req.path === "/api" || c.req.path.startsWith("/api/") || c.req.path === "/health") return next();
		if (!existsSync(indexFile)) {
			return c.text(
				`The web app is not built (no ${path.relative(PROJECT_ROOT, indexFile)}). Run \`npm run build\`, or \`npm start\`, which builds it.\n`,
				404,
			);
		}
		handlers ??= { files: serveStatic({ root }), index: serveStatic({ path: indexFile }) };
		const { files, index } = handlers;
		const file = await files(c, noop);
		if (file) {
			const hashed = c.req.path.startsWith(HASHED_ASSETS_PREFIX);
			file.headers.set("Cache-Control", hashed ? IMMUTABLE_CACHE : REVALIDATE);
			return file;
		}
		if (isPagePath(c.req.path)) {
			const page = await index(c, noop);
			if (page) {
				page.headers.set("Cache-Control", REVALIDATE);
				return page;
			}
		}
		return next();
	};
}

/** A path a browser navigates to, as opposed to a file it fetches. */
function isPagePath(requestPath: string): boolean {
	const last = requestPath.slice(requestPath.lastIndexOf("/") + 1);
	return !last.includes(".");
}
