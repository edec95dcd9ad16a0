// `npm start` / `npm run dev`: the whole app on one machine, no account needed.
//
// 1. The engine on 127.0.0.1:6420 (data in `.data/engine`), or adopts a steady
//    one already there and leaves it running (tools/local/adopt.ts).
// 2. The Hono server (`src/server.ts`) on PORT (default 3000), and the pool's
//    runner config pointed at its `/api/rivet`.
// 3. The web app: built into `web/dist` when stale; `npm run dev` runs Vite
//    (hot reload, :5173, proxying `/api`) instead.
// Ctrl-C at any moment stops what has started, newest first
// (tools/local/lifecycle.ts). Each phase first prints a line starting with "•".
// lab:start (the README's lab removal block deletes these lines)
// The interruption tests (test/tools/local/interrupt.test.ts) wait for those
// lines.
// lab:end
//
// With a non-local RIVET_ENDPOINT it starts only the server and writes no runner config.

import path from "node:path";
import { parseArgs } from "node:util";
import type { ViteDevServer } from "vite";
import { decideAdoption } from "./local/adopt.ts";
import { PROJECT_ROOT, type RunningAppServer, startAppServer } from "./local/app-server.ts";
import { enginePidFile, type RunningEngine, startEngine } from "./local/engine.ts";
import { exitOnSignals, isShuttingDown, stopTracked } from "./local/lifecycle.ts";
import { configureServerlessPool } from "./local/runner-config.ts";
import { buildWebApp, isWebBuildCurrent } from "./local/web-build.ts";

const LOCAL_ENGINE_PORT = 6420;
const LOCAL_ENGINE_URL = `http://127.0.0.1:${LOCAL_ENGINE_PORT}`;
/** Where the local engine keeps its data; `FLEET_DATA_DIR` moves it (the interruption tests use a temporary one). */
const DATA_DIR = path.resolve(process.env.FLEET_DATA_DIR || path.join(PROJECT_ROOT, ".data"));
const VITE_CONFIG = path.join(PROJECT_ROOT, "web/vite.config.ts");

const { values: flags } = parseArgs({ options: { dev: { type: "boolean", default: false } } });

let vite: ViteDevServer | undefined;
// Before anything starts, so no phase is without them.
exitOnSignals({ beforeStop: async () => vite?.close() });

function isLocal(endpoint: string): boolean {
	const host = new URL(endpoint).hostname;
	return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

async function main(): Promise<void> {
	const port = Number(process.env.PORT ?? process.env.RIVET_PORT ?? 3000);
	const pool = process.env.RIVET_POOL || "default";
	const endpoint = process.env.RIVET_ENDPOINT || LOCAL_ENGINE_URL;
	const local = isLocal(endpoint);

	// Before anything starts: a broken web build stops here, with nothing to clean up.
	// `WEB_DIST` (read by the server too) moves the build out of web/dist.
	const outDir = process.env.WEB_DIST ? path.resolve(process.env.WEB_DIST) : undefined;
	if (!flags.dev) {
		if (isWebBuildCurrent({ pool, ...(outDir ? { outDir } : {}) })) {
			console.log("• web app: the build is up to date");
		} else {
			console.log(`• building the web app (web/ → ${outDir ? path.relative(process.cwd(), outDir) : "web/dist"})`);
			await buildWebApp({ pool, ...(outDir ? { outDir } : {}) });
		}
	}

	let engine: RunningEngine | undefined;
	if (local) {
		const enginePort = Number(new URL(endpoint).port || LOCAL_ENGINE_PORT);
		const dataDir = path.join(DATA_DIR, enginePort === LOCAL_ENGINE_PORT ? "engine" : `engine-${enginePort}`);
		const adoption = await decideAdoption(endpoint, { ownPidFile: enginePidFile(dataDir) });
		if (adoption.verdict === "refuse") return fail(`not adopting the engine: ${adoption.reason}`);
		if (adoption.verdict === "adopt") {
			const where = adoption.dataDir ? `, data: ${adoption.dataDir}` : "";
			console.log(`• adopting the engine that already answers on ${endpoint} (not started here: it stays up${where})`);
		} else {
			if (adoption.verdict === "replace-own-leftover") {
				console.log(`• replacing this data dir's engine left by an earlier run (pid ${adoption.pid})`);
			}
			console.log(`• starting the Rivet Engine on ${endpoint} (data: ${path.relative(process.cwd(), dataDir)})`);
			engine = await startEngine({ port: enginePort, dataDir });
		}
	}

	console.log(`• starting the app server on http://127.0.0.1:${port}${flags.dev ? " (watching src/)" : ""}`);
	const server: RunningAppServer = await startAppServer({
		port,
		watch: flags.dev,
		env: { RIVET_ENDPOINT: endpoint, RIVET_POOL: pool, RIVET_RUNNER_VERSION: process.env.RIVET_RUNNER_VERSION },
	});

	if (local) {
		console.log(`• writing the runner config: pool "${pool}" → ${server.url}/api/rivet`);
		await configureServerlessPool({ engineUrl: endpoint, url: `${server.url}/api/rivet`, pool });
	}

	if (flags.dev) {
		console.log("• starting the Vite dev server");
		vite = await startViteDevServer(server.url, pool);
	}
	const appUrl = vite?.resolvedUrls?.local[0]?.replace(/\/$/, "") ?? server.url;

	console.log(`
actor-fleet is up.
  app       ${appUrl}            (${vite ? `Vite, hot reload; server ${server.url}` : `health: ${server.url}/health`})
  engine    ${new URL(endpoint).origin}     (dashboard: ${new URL(endpoint).origin}/ui${engine || !local ? "" : "; adopted: started elsewhere, left running"})
${tryLines({ app: server.url, engine: new URL(endpoint).origin, pool })}Ctrl-C stops everything.
`);

	void server.exited.then((code) => {
		if (!isShuttingDown()) void fail(`the app server exited unexpectedly (code ${code})`);
	});
	engine?.process.once("exit", (code, sig) => {
		if (!isShuttingDown()) void fail(`the engine exited unexpectedly (${code ?? sig}); see its engine.log`);
	});
}

/** Shell lines the banner suggests (none without the examples); `tryLines` fills in `{app}`, `{engine}`, `{pool}`. */
const TRY_LINES: string[] = [
	// example-actors:start (the README's removal block deletes these lines)
	`  SIGNIN=$(curl -s -X POST {app}/api/auth/sign-in -H 'content-type: application/json' -d '{"name":"you"}')`,
	`  TOKEN=$(echo "$SIGNIN" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')`,
	`  ME=$(echo "$SIGNIN" | node -pe 'JSON.parse(require("fs").readFileSync(0)).userId')`,
	`  ID=$(curl -s -X PUT '{engine}/actors?namespace=default' -H 'content-type: application/json' \\`,
	`    -d '{"name":"counter","key":"'"$ME"'","runner_name_selector":"{pool}","crash_policy":"sleep"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).actor.actor_id')`,
	`  curl -s -X POST {engine}/gateway/$ID/action/increment -H 'content-type: application/json' \\`,
	`    -H "x-rivet-conn-params: {\\"token\\":\\"$TOKEN\\"}" -d '{"args":[1]}'`,
	// example-actors:end
];

/** The banner's "Try" section: `TRY_LINES` with this run's addresses, or nothing when there are none. */
function tryLines(values: { app: string; engine: string; pool: string }): string {
	if (TRY_LINES.length === 0) return "";
	const filled = TRY_LINES.map((line) =>
		line.replace(/\{(app|engine|pool)\}/g, (_, name: keyof typeof values) => values[name]),
	);
	return `Try (as a signed-in user; a counter belongs to its first writer):\n${filled.join("\n")}\n`;
}

/** Stops whatever has started (newest first) and exits 1, unless a signal is already doing that. */
async function fail(message: string): Promise<void> {
	// A signal's shutdown makes the step in progress fail; that is not news.
	if (isShuttingDown()) return;
	console.error(`actor-fleet: ${message}`);
	await vite?.close().catch(() => {});
	await stopTracked((line) => console.error(`• ${line}`));
	process.exit(1);
}

/** Vite's dev server for `web/`, in this process, forwarding `/api` to the app server. */
async function startViteDevServer(appServerUrl: string, pool: string): Promise<ViteDevServer> {
	// Read by web/vite.config.ts (the proxy target) and by the browser code (the pool).
	process.env.APP_SERVER_URL = appServerUrl;
	process.env.VITE_RIVET_POOL = pool;
	const { createServer } = await import("vite");
	const server = await createServer({ configFile: VITE_CONFIG, logLevel: "warn" });
	await server.listen();
	console.log(`• Vite dev server on ${server.resolvedUrls?.local[0] ?? "?"} (hot reload; /api → ${appServerUrl})`);
	return server;
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
