// `npm start` / `npm run dev`: the whole app on one machine, no account needed.
//
// 1. Starts the real Rivet Engine on 127.0.0.1:6420 (data in `.data/engine`,
//    kept across restarts; `npm run clean:data` wipes it).
// 2. Starts the Hono server (`src/server.ts`) on PORT (default 3000).
// 3. Points the engine's runner config for the pool at the server's
//    `/api/rivet`, so actors run in this server.
// 4. The web app: `npm start` builds `web/dist` when it is missing or stale and
//    the server serves it; `npm run dev` runs Vite's dev server (hot reload)
//    on :5173 instead, which proxies `/api` to the server.
// Ctrl-C stops Vite, then the server (actors drain into the engine), then the engine.
//
// With RIVET_ENDPOINT set to a non-local engine (Rivet Cloud, self-hosted), it
// starts only the server and writes no runner config: that engine's operator
// owns it (see README, "Deploying").

import path from "node:path";
import { parseArgs } from "node:util";
import type { ViteDevServer } from "vite";
import { PROJECT_ROOT, type RunningAppServer, startAppServer } from "./local/app-server.ts";
import { isEngineHealthy, type RunningEngine, startEngine } from "./local/engine.ts";
import { configureServerlessPool } from "./local/runner-config.ts";
import { buildWebApp, isWebBuildCurrent } from "./local/web-build.ts";

const LOCAL_ENGINE_PORT = 6420;
const LOCAL_ENGINE_URL = `http://127.0.0.1:${LOCAL_ENGINE_PORT}`;
const DATA_DIR = path.join(PROJECT_ROOT, ".data");
const VITE_CONFIG = path.join(PROJECT_ROOT, "web/vite.config.ts");

const { values: flags } = parseArgs({ options: { dev: { type: "boolean", default: false } } });

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
	if (!flags.dev) {
		if (isWebBuildCurrent({ pool })) {
			console.log("• web app: web/dist is up to date");
		} else {
			console.log("• building the web app (web/ → web/dist)");
			await buildWebApp({ pool });
		}
	}

	let engine: RunningEngine | undefined;
	if (local) {
		if (await isEngineHealthy(endpoint)) {
			console.log(`• an engine already answers on ${endpoint}; using it (it was not started here, so it stays up)`);
		} else if (endpoint === LOCAL_ENGINE_URL) {
			console.log(`• starting the Rivet Engine on ${LOCAL_ENGINE_URL} (data: .data/engine)`);
			engine = await startEngine({ port: LOCAL_ENGINE_PORT, dataDir: path.join(DATA_DIR, "engine") });
		} else {
			throw new Error(`RIVET_ENDPOINT=${endpoint} is local but nothing answers there; start that engine first`);
		}
	}

	console.log(`• starting the app server on http://127.0.0.1:${port}${flags.dev ? " (watching src/)" : ""}`);
	let server: RunningAppServer;
	try {
		server = await startAppServer({
			port,
			watch: flags.dev,
			env: { RIVET_ENDPOINT: endpoint, RIVET_POOL: pool, RIVET_RUNNER_VERSION: process.env.RIVET_RUNNER_VERSION },
		});
	} catch (error) {
		await engine?.stop();
		throw error;
	}

	if (local) {
		await configureServerlessPool({ engineUrl: endpoint, url: `${server.url}/api/rivet`, pool });
		console.log(`• runner config: pool "${pool}" → ${server.url}/api/rivet`);
	}

	let vite: ViteDevServer | undefined;
	if (flags.dev) {
		try {
			vite = await startViteDevServer(server.url, pool);
		} catch (error) {
			await server.stop();
			await engine?.stop();
			throw error;
		}
	}
	const appUrl = vite?.resolvedUrls?.local[0]?.replace(/\/$/, "") ?? server.url;

	console.log(`
actor-fleet is up.
  app       ${appUrl}            (${vite ? `Vite, hot reload; server ${server.url}` : `health: ${server.url}/health`})
  engine    ${new URL(endpoint).origin}     (dashboard: ${new URL(endpoint).origin}/ui)
Try:
  ID=$(curl -s -X PUT '${new URL(endpoint).origin}/actors?namespace=default' -H 'content-type: application/json' \\
    -d '{"name":"counter","key":"demo","runner_name_selector":"${pool}","crash_policy":"sleep"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).actor.actor_id')
  curl -s -X POST ${new URL(endpoint).origin}/gateway/$ID/action/increment -H 'content-type: application/json' -d '{"args":[1]}'
Ctrl-C stops everything.
`);

	let stopping = false;
	const stopAll = async (code: number): Promise<never> => {
		if (stopping) return new Promise<never>(() => {});
		stopping = true;
		if (vite) {
			console.log("\n• stopping the Vite dev server");
			await vite.close();
		}
		console.log("\n• stopping the app server (actors drain into the engine)");
		await server.stop();
		if (engine) {
			console.log("• stopping the engine");
			await engine.stop();
		}
		process.exit(code);
	};
	process.on("SIGINT", () => void stopAll(0));
	process.on("SIGTERM", () => void stopAll(0));
	void server.exited.then((code) => {
		if (!stopping) {
			console.error(`• the app server exited unexpectedly (code ${code})`);
			void stopAll(1);
		}
	});
	engine?.process.once("exit", (code, sig) => {
		if (!stopping) {
			console.error(`• the engine exited unexpectedly (${code ?? sig}); see .data/engine/engine.log`);
			void stopAll(1);
		}
	});
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

main().catch((error: unknown) => {
	console.error(`actor-fleet: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});
