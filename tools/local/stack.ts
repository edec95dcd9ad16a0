// An isolated engine + app server pair on free ports with a temporary data
// dir: what the test suite and the lab run against, so a dev server on
// :6420 never sees their actors and they never see its.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type RunningAppServer, startAppServer } from "./app-server.ts";
import { StartError } from "./daemon.ts";
import { type RunningEngine, startEngineOnFreePort } from "./engine.ts";
import { processesMentioning } from "./hygiene.ts";
import { freePort } from "./ports.ts";
import { configureServerlessPool } from "./runner-config.ts";

/** How many free ports an app server start tries when a program outside this repo took the chosen one. */
const SERVER_PORT_ATTEMPTS = 3;

export interface StackOptions {
	pool?: string;
	/** Environment for the app server (on top of the engine endpoint and pool). */
	serverEnv?: Record<string, string | undefined>;
	/** The server's entry file; defaults to `src/server.ts` (the tests pass their fixture server). */
	entry?: string;
}

export interface Stack {
	engine: RunningEngine;
	server: RunningAppServer;
	dataDir: string;
	pool: string;
	// lab:start (the README's lab removal block deletes these lines)
	/** Starts one more app server on its own port and pool against this engine (the bench's wasm server). */
	addServer(options: {
		pool: string;
		env?: Record<string, string | undefined>;
		configure?: boolean;
		entry?: string;
	}): Promise<RunningAppServer>;
	// lab:end
	stop(): Promise<void>;
}

export async function startServerForPool(
	engineUrl: string,
	options: {
		pool: string;
		dataDir: string;
		env?: Record<string, string | undefined>;
		configure?: boolean;
		port?: number;
		/** The server's entry file; defaults to `src/server.ts`. */
		entry?: string;
	},
): Promise<RunningAppServer> {
	const start = (port: number) =>
		startAppServer({
			port,
			...(options.entry ? { entry: options.entry } : {}),
			logFile: path.join(options.dataDir, `server-${options.pool}-${port}.log`),
			env: {
				NODE_ENV: "development",
				RIVET_ENDPOINT: engineUrl,
				RIVET_POOL: options.pool,
				RIVET_RUNNER_VERSION: "1",
				// Every test user signs in from 127.0.0.1; sign-in-limit.test.ts runs its own server with the default.
				SIGN_IN_BURST: "1000000",
				...options.env,
			},
		});
	let server: RunningAppServer;
	if (options.port !== undefined) {
		server = await start(options.port);
	} else {
		// A port taken by a program outside this repo (see ports.ts) costs one more try.
		for (let attempt = 1; ; attempt++) {
			try {
				server = await start(await freePort());
				break;
			} catch (error) {
				if (!(error instanceof StartError && error.addressInUse) || attempt >= SERVER_PORT_ATTEMPTS) {
					throw error;
				}
			}
		}
	}
	if (options.configure !== false) {
		await configureServerlessPool({
			engineUrl,
			url: `${server.url}/api/rivet`,
			pool: options.pool,
			// The server checks `/start` against its own secret; the runner config must carry the same one.
			...(options.env?.RIVET_START_SECRET ? { startSecret: options.env.RIVET_START_SECRET } : {}),
		});
	}
	return server;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
	// A fresh temporary folder, removed by `stop()`.
	const dataDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-"));
	const pool = options.pool ?? "default";
	const engine = await startEngineOnFreePort({ dataDir: path.join(dataDir, "engine") });
	const extra: RunningAppServer[] = [];
	let server: RunningAppServer;
	try {
		server = await startServerForPool(engine.url, {
			pool,
			dataDir,
			env: options.serverEnv ?? {},
			...(options.entry ? { entry: options.entry } : {}),
		});
	} catch (error) {
		await engine.stop();
		throw error;
	}
	const stack: Stack = {
		engine,
		server,
		dataDir,
		pool,
		// lab:start (the README's lab removal block deletes these lines)
		async addServer(opts) {
			const entry = opts.entry ?? options.entry;
			const s = await startServerForPool(stack.engine.url, { ...opts, dataDir, ...(entry ? { entry } : {}) });
			extra.push(s);
			return s;
		},
		// lab:end
		async stop() {
			// Servers first: their actors drain into the engine before it stops.
			// `stack.engine`/`stack.server`, not the originals: crash tests replace them.
			await Promise.all([stack.server.stop(), ...extra.map((s) => s.stop())]);
			await stack.engine.stop();
			// Nothing started for this stack may outlive it (engines name the dir in their arguments).
			const leftovers = processesMentioning(dataDir);
			for (const { pid } of leftovers) process.kill(pid, "SIGKILL");
			rmSync(dataDir, { recursive: true, force: true });
			if (leftovers.length > 0) {
				throw new Error(`processes outlived their stack: ${leftovers.map((p) => p.cmdline).join("; ")}`);
			}
		},
	};
	return stack;
}

/** Random secrets for a `NODE_ENV=production` server (it refuses the development defaults). */
export function productionSecrets(): { AUTH_SECRET: string; RIVET_START_SECRET: string; OPERATOR_TOKEN: string } {
	const secret = () => randomBytes(32).toString("base64url");
	return { AUTH_SECRET: secret(), RIVET_START_SECRET: secret(), OPERATOR_TOKEN: secret() };
}
