// The only entry point that starts anything: it listens, and it shuts down
// cleanly on SIGTERM/SIGINT.
//
// `registry.handler()` installs no signal handlers of its own. Without the
// shutdown below, a normal stop (a deploy, Ctrl-C) skips the actors' final
// state save and loses writes made in their last second.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { SettingsError } from "./actors/validate.ts";
import { app } from "./app.ts";
import { loadEnv } from "./env.ts";
import { checkActorSettings, registry } from "./registry.ts";
import { prepareRuntime } from "./runtime.ts";

/** After this long, open connections are cut so the process can exit. */
const SHUTDOWN_CLOSE_TIMEOUT_MS = 5_000;

const env = loadEnv();
try {
	// The actors read their settings on first use; reading them now stops a
	// misconfigured server at boot instead of at its first connection.
	checkActorSettings();
} catch (error) {
	if (!(error instanceof SettingsError)) throw error;
	console.error(`actor-fleet: invalid environment, not starting:\n${error.lines.join("\n")}`);
	process.exit(1);
}

await prepareRuntime();
const server = serve({ fetch: app.fetch, port: env.port, hostname: env.host }, (info: AddressInfo) => {
	const version = env.runnerVersion === undefined ? "unset" : `${env.runnerVersion} (${env.versionSource})`;
	console.log(
		`actor-fleet listening on http://${info.address}:${info.port} (engine ${new URL(env.endpoint).origin}, pool ${env.pool}, runner version ${version})`,
	);
});

server.on("error", (error: NodeJS.ErrnoException) => {
	if (error.code === "EADDRINUSE") {
		console.error(`actor-fleet: port ${env.port} on ${env.host} is already in use; set PORT to a free port`);
	} else {
		console.error(`actor-fleet: cannot listen on ${env.host}:${env.port}: ${error.message}`);
	}
	process.exit(1);
});

/** How often a server started by a launcher checks that the launcher still runs. */
const PARENT_CHECK_INTERVAL_MS = 1_000;

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

let stopping = false;

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
watchParent();
process.on("SIGINT", () => void shutdown("SIGINT"));
