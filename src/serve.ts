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
import { loadEnv } from "./env.ts";
import { exitOnInvalidSettings } from "./settings.ts";
import { refuseStartsWhileStopping } from "./workarounds/refuse-starts-while-stopping.ts";

/** After this long, open connections are cut so the process can exit. */
const SHUTDOWN_CLOSE_TIMEOUT_MS = 5_000;

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

/** Listens on `PORT`/`HOST` and stops cleanly on SIGTERM/SIGINT. */
export function serveUntilStopped({ app, registry, checkSettings, onListening }: ServeOptions): void {
	const env = loadEnv();
	// The actors read their settings on first use; reading them now stops a
	// misconfigured server at boot instead of at its first connection.
	if (checkSettings) exitOnInvalidSettings(checkSettings);

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

	process.on("SIGTERM", () => void shutdown("SIGTERM"));
	process.on("SIGINT", () => void shutdown("SIGINT"));
}
