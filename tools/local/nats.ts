// A private NATS server for the local engine cluster: Debian's `nats-server`
// with the committed `deploy/cluster/nats.conf`, on its own loopback port.
// The engine nodes use it for pub/sub; it keeps no data of its own.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { acceptsConnections, type RunningDaemon, startDaemon } from "./daemon.ts";
import { renderDeployFile } from "./templates.ts";

const NATS_BOOT_TIMEOUT_MS = 20_000;

export interface NatsOptions {
	dir: string;
	port: number;
	/** The `nats-server` program (see `findClusterBinaries`). */
	command: string;
	/** The one user allowed to connect (the engine nodes). */
	user: string;
	password: string;
}

export interface RunningNats extends RunningDaemon {
	/** `127.0.0.1:<port>`: what the engine config's `nats.addresses` lists. */
	address: string;
}

export async function startNats(options: NatsOptions): Promise<RunningNats> {
	mkdirSync(options.dir, { recursive: true });
	const address = `127.0.0.1:${options.port}`;
	const config = renderDeployFile("nats.conf", path.join(options.dir, "nats.conf"), {
		NATS_LISTEN: address,
		NATS_USER: options.user,
		NATS_PASSWORD: options.password,
	});
	const daemon = await startDaemon({
		name: "nats-server",
		command: options.command,
		args: ["-c", config],
		logFile: path.join(options.dir, "nats.log"),
		pidFile: path.join(options.dir, "nats.launcher.pid"),
		bootTimeoutMs: NATS_BOOT_TIMEOUT_MS,
		ready: () => acceptsConnections("127.0.0.1", options.port),
	});
	return { ...daemon, address };
}
