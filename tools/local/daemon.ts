// Runs one of the cluster's third-party servers (PostgreSQL, NATS, nginx) as a
// child process: output to a log file, ready once a check passes, stopped by
// PID with a signal and a SIGKILL fallback.
//
// Each server is started in the foreground (no daemonizing), so the PID we
// hold is the server's own and nothing outlives the launcher unnoticed.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

const READY_POLL_INTERVAL_MS = 100;
/** How long a stop signal gets before SIGKILL. */
const DAEMON_STOP_TIMEOUT_MS = 10_000;

export interface DaemonOptions {
	/** Shown in errors, e.g. "PostgreSQL". */
	name: string;
	command: string;
	args: string[];
	logFile: string;
	env?: Record<string, string | undefined>;
	/** Run as this user (PostgreSQL refuses to run as root). */
	uid?: number;
	gid?: number;
	/** Resolves true once the server serves. */
	ready: () => Promise<boolean>;
	bootTimeoutMs: number;
	/** The signal for a clean stop (PostgreSQL: SIGINT, "fast shutdown"). */
	stopSignal?: NodeJS.Signals;
	/** How long the clean stop may take before SIGKILL. */
	stopTimeoutMs?: number;
	/**
	 * Where the PID is recorded. A launcher killed with SIGKILL cannot stop its
	 * servers; the next start finds this file and stops the leftover first.
	 */
	pidFile: string;
}

export interface RunningDaemon {
	name: string;
	pid: number;
	process: ChildProcess;
	/** The clean-stop signal, then SIGKILL after a grace period. Resolves once gone. */
	stop(): Promise<void>;
	/** SIGKILL, for crash tests. Resolves once gone. */
	kill(): Promise<void>;
}

export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await check()) return true;
		await new Promise((r) => setTimeout(r, READY_POLL_INTERVAL_MS));
	}
	return false;
}

/** True when something accepts TCP connections on `host:port`. */
export function acceptsConnections(host: string, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect({ host, port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1_000, () => done(false));
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

function waitForExit(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Stops the process a previous launcher recorded in `pidFile`, if it is still
 * running and still the same program (PIDs are reused).
 */
async function stopLeftover(options: DaemonOptions): Promise<void> {
	if (!existsSync(options.pidFile)) return;
	const pid = Number(readFileSync(options.pidFile, "utf8").trim());
	rmSync(options.pidFile, { force: true });
	if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
	let cmdline = "";
	try {
		cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
	} catch {
		return;
	}
	if (!cmdline.includes(path.basename(options.command))) return;
	const stopTimeoutMs = options.stopTimeoutMs ?? DAEMON_STOP_TIMEOUT_MS;
	process.kill(pid, options.stopSignal ?? "SIGTERM");
	if (!(await waitUntil(() => !isAlive(pid), stopTimeoutMs))) {
		process.kill(pid, "SIGKILL");
		await waitUntil(() => !isAlive(pid), stopTimeoutMs);
	}
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
	await stopLeftover(options);
	const log = createWriteStream(options.logFile, { flags: "a" });
	await new Promise((resolve) => log.once("open", resolve));
	const child = spawn(options.command, options.args, {
		// Its own process group: Ctrl-C in the launcher's terminal must not reach
		// the servers before the launcher stops them in order.
		detached: true,
		stdio: ["ignore", log, log],
		env: { ...process.env, ...options.env },
		...(options.uid !== undefined ? { uid: options.uid } : {}),
		...(options.gid !== undefined ? { gid: options.gid } : {}),
	});
	const pid = child.pid;
	if (pid === undefined) throw new Error(`could not spawn ${options.name} (${options.command})`);
	writeFileSync(options.pidFile, `${pid}\n`);
	let exited = false;
	child.once("exit", () => {
		exited = true;
	});

	const ready = await waitUntil(async () => exited || (await options.ready()), options.bootTimeoutMs);
	if (exited || !ready) {
		child.kill("SIGKILL");
		await waitForExit(child);
		rmSync(options.pidFile, { force: true });
		log.end();
		const why = exited ? `exited with ${child.exitCode ?? child.signalCode}` : "timed out";
		throw new Error(`${options.name} did not start (${why}); see ${options.logFile}`);
	}

	const terminate = async (signal: NodeJS.Signals): Promise<void> => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill(signal);
			const timer = setTimeout(() => child.kill("SIGKILL"), options.stopTimeoutMs ?? DAEMON_STOP_TIMEOUT_MS);
			await waitForExit(child);
			clearTimeout(timer);
		}
		rmSync(options.pidFile, { force: true });
		log.end();
	};
	return {
		name: options.name,
		pid,
		process: child,
		stop: () => terminate(options.stopSignal ?? "SIGTERM"),
		kill: () => terminate("SIGKILL"),
	};
}
