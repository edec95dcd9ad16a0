// Listening and stopping, for `src/server.ts` (the product's only entry) and
// the test suite's fixture server (test/fixtures/server.ts), so both listen,
// drain and stop the same way. Importing this file starts nothing.
//
// `registry.handler()` installs no signal handlers of its own. Without the
// shutdown below, a normal stop (a deploy, Ctrl-C) skips the actors' final
// state save and loses writes made in their last second.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { SettingsError } from "./actors/validate.ts";
import { loadEnv } from "./env.ts";

/** Where the engine asks this server to start actors: rivetkit's default `serverless.basePath` plus `/start`. */
export const ENGINE_START_PATH = "/api/rivet/start";

/** After this long, open connections are cut so the process can exit. */
const SHUTDOWN_CLOSE_TIMEOUT_MS = 5_000;
/** How often a server started by a launcher checks that the launcher still runs. */
const PARENT_CHECK_INTERVAL_MS = 1_000;

export interface ServeOptions {
	app: Hono;
	/** What the server drains on SIGTERM/SIGINT: the registry the app serves. */
	registry: { shutdown(): Promise<void> };
	/** Parses the actors' settings at boot; throws `SettingsError` on a bad value. */
	checkSettings?: () => void;
	/**
	 * Runs once the server listens (the engine can then start actors here);
	 * a failure is logged, never fatal.
	 */
	onListening?: () => Promise<void>;
}

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * Answers the engine's start requests with a 503 once `isStopping()` is
 * true; everything else goes to `fetch`. Why: after `registry.shutdown()`
 * begins, rivetkit 2.3.19 throws on every new start (`Invalid native state
 * 'core registry': shut down`) and the engine, on the connections it keeps
 * open, sends more (measured: 434 such errors and about 30 s to stop, with
 * many batches running). A 503 is the answer rivetkit itself gives the
 * engine when it cannot start actors, in the same body shape; the engine
 * starts them on another server, or here again after a restart.
 */
export function refuseStartsWhileStopping(fetch: Fetch, isStopping: () => boolean): Fetch {
	return (request, env) => {
		if (isStopping() && new URL(request.url).pathname.startsWith(ENGINE_START_PATH)) {
			const body = {
				group: "guard",
				code: "service_unavailable",
				message: "This server is stopping; it starts no more actors.",
				metadata: null,
			};
			return Response.json(body, { status: 503 });
		}
		return fetch(request, env);
	};
}

/** Listens on `PORT`/`HOST` and stops cleanly on SIGTERM/SIGINT or when the launcher is gone. */
export function serveUntilStopped({ app, registry, checkSettings, onListening }: ServeOptions): void {
	const env = loadEnv();
	try {
		// The actors read their settings on first use; reading them now stops a
		// misconfigured server at boot instead of at its first connection.
		checkSettings?.();
	} catch (error) {
		if (!(error instanceof SettingsError)) throw error;
		console.error(`actor-fleet: invalid environment, not starting:\n${error.lines.join("\n")}`);
		process.exit(1);
	}

	let stopping = false;
	const fetch = refuseStartsWhileStopping(app.fetch, () => stopping);
	const server = serve({ fetch, port: env.port, hostname: env.host }, (info: AddressInfo) => {
		const version = env.runnerVersion === undefined ? "unset" : `${env.runnerVersion} (${env.versionSource})`;
		console.log(
			`actor-fleet listening on http://${info.address}:${info.port} (engine ${new URL(env.endpoint).origin}, pool ${env.pool}, runner version ${version}, start guard ${env.auth.startGuard})`,
		);
		onListening?.().catch((error: unknown) => {
			console.error("actor-fleet: a start-up task failed:", error instanceof Error ? error.message : error);
		});
	});

	server.on("error", (error: NodeJS.ErrnoException) => {
		if (error.code === "EADDRINUSE") {
			console.error(`actor-fleet: port ${env.port} on ${env.host} is already in use; set PORT to a free port`);
		} else {
			console.error(`actor-fleet: cannot listen on ${env.host}:${env.port}: ${error.message}`);
		}
		process.exit(1);
	});

	async function shutdown(signal: NodeJS.Signals): Promise<void> {
		if (stopping) return;
		stopping = true;
		console.log(`actor-fleet: ${signal} received, draining actors`);
		// Stop accepting new connections first. The engine's `/start` streams stay
		// open until the registry has stopped the actors they carry.
		const closed = new Promise<void>((resolve) => server.close(() => resolve()));
		try {
			await registry.shutdown();
		} catch (error) {
			console.error("actor-fleet: registry shutdown failed:", error);
		}
		const timer = setTimeout(() => {
			if ("closeAllConnections" in server) server.closeAllConnections();
		}, SHUTDOWN_CLOSE_TIMEOUT_MS);
		timer.unref();
		if ("closeIdleConnections" in server) server.closeIdleConnections();
		await closed;
		console.log("actor-fleet: stopped");
		process.exit(0);
	}

	/**
	 * A server started by the local launcher or the tests stops when they are
	 * gone: killed with SIGKILL, they cannot stop it themselves.
	 */
	function watchParent(): void {
		const parent = env.parentPid;
		if (parent === undefined) return;
		const timer = setInterval(() => {
			try {
				process.kill(parent, 0);
			} catch {
				clearInterval(timer);
				console.error(`actor-fleet: the process that started this server (pid ${parent}) is gone; stopping`);
				void shutdown("SIGTERM");
			}
		}, PARENT_CHECK_INTERVAL_MS);
		timer.unref();
	}

	process.on("SIGTERM", () => void shutdown("SIGTERM"));
	process.on("SIGINT", () => void shutdown("SIGINT"));
	watchParent();
}
