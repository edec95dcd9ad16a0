// Runs a server the harness needs (the engine; the lab cluster's PostgreSQL,
// NATS, nginx) in the foreground, so the PID held is its own: output to a log
// file, ready once a check passes, stopped by PID with a SIGKILL fallback.

// lab:start (the README's lab removal block deletes these lines)
import net from "node:net";
// lab:end

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { track, watchParent } from "./lifecycle.ts";

const READY_POLL_INTERVAL_MS = 100;
/** How long a stop signal gets before SIGKILL. */
const DAEMON_STOP_TIMEOUT_MS = 10_000;

export interface DaemonOptions {
	/** Shown in errors, e.g. "the Rivet Engine". */
	name: string;
	command: string;
	args: string[];
	logFile: string;
	env?: Record<string, string | undefined>;
	// lab:start (the README's lab removal block deletes these lines)
	/** Run as this user (PostgreSQL refuses to run as root). */
	uid?: number;
	gid?: number;
	// lab:end
	/** Resolves true once the server serves. */
	ready: () => Promise<boolean>;
	bootTimeoutMs: number;
	/** The signal for a clean stop (default SIGTERM). */
	stopSignal?: NodeJS.Signals;
	/** How long the clean stop may take before SIGKILL. */
	stopTimeoutMs?: number;
	/** Where the PID is recorded, so the next start stops a leftover of a launcher killed with SIGKILL. */
	pidFile: string;
	/** A log line that means the start failed although the process lives on: the boot wait stops there. */
	fatalLogLine?: RegExp;
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

// lab:start (the README's lab removal block deletes these lines)
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
// lab:end

/** Stops the process recorded in `pidFile` if it still runs the same program (PIDs are reused). */
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
	// The log is appended to across runs; a failed start quotes only this run's lines.
	const logStart = existsSync(options.logFile) ? statSync(options.logFile).size : 0;
	const log = createWriteStream(options.logFile, { flags: "a" });
	await new Promise((resolve) => log.once("open", resolve));
	const child = spawn(options.command, options.args, {
		// Its own process group: Ctrl-C in the launcher's terminal must not reach
		// the servers before the launcher stops them in order.
		detached: true,
		stdio: ["ignore", log, log],
		env: { ...process.env, ...options.env },
		// lab:start (the README's lab removal block deletes these lines)
		...(options.uid !== undefined ? { uid: options.uid } : {}),
		...(options.gid !== undefined ? { gid: options.gid } : {}),
		// lab:end
	});
	const pid = child.pid;
	if (pid === undefined) throw new Error(`could not spawn ${options.name} (${options.command})`);
	writeFileSync(options.pidFile, `${pid}\n`);
	let exited = false;
	child.once("exit", () => {
		exited = true;
	});

	const stopSignal = options.stopSignal ?? "SIGTERM";
	const stopTimeoutMs = options.stopTimeoutMs ?? DAEMON_STOP_TIMEOUT_MS;
	const terminate = async (signal: NodeJS.Signals): Promise<void> => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill(signal);
			const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
			await new Promise((resolve) => child.once("exit", resolve));
			clearTimeout(timer);
		}
		untrack();
		rmSync(options.pidFile, { force: true });
		log.end();
	};
	// Tracked from the moment it exists: a signal during the boot wait below
	// must stop it too, and so must this process's death (the watcher).
	const untrack = track({ name: options.name, pid, stop: () => terminate(stopSignal) });
	watchParent(pid, stopSignal, stopTimeoutMs);

	let fatal: string | undefined;
	const failedInLog = (): boolean => {
		if (!options.fatalLogLine) return false;
		fatal = logTail(options.logFile, logStart).find((line) => options.fatalLogLine?.test(line));
		return fatal !== undefined;
	};
	const ready = await waitUntil(async () => exited || failedInLog() || (await options.ready()), options.bootTimeoutMs);
	if (exited || fatal !== undefined || !ready) {
		const why = exited
			? `exited with ${child.exitCode ?? child.signalCode}`
			: fatal !== undefined
				? "it reported a fatal error"
				: "timed out";
		await terminate("SIGKILL");
		throw new StartError(options.name, why, logTail(options.logFile, logStart), options.logFile);
	}

	return {
		name: options.name,
		pid,
		process: child,
		stop: () => terminate(stopSignal),
		kill: () => terminate("SIGKILL"),
	};
}

/** ANSI colour codes, which make the engine's lines unreadable in an error message. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
/** How many of a failed daemon's last log lines its start error quotes. */
const FAILED_START_LOG_LINES = 12;
/** Log lines longer than this are cut in the error (engine lines carry long span fields). */
const FAILED_START_LINE_CHARS = 400;

/** The last lines of a log, error lines first: a failed start quotes them (a test's cleanup may delete the file). */
export function logTail(file: string, fromByte = 0, count = FAILED_START_LOG_LINES): string[] {
	let lines: string[];
	try {
		lines = readFileSync(file)
			.subarray(fromByte)
			.toString("utf8")
			.replace(ANSI_COLOUR, "")
			.split("\n")
			.filter((l) => l.trim() !== "");
	} catch {
		return [];
	}
	const errors = lines.filter((l) => /\b(error|fatal|panic|ERROR|FATAL|PANIC)\b|in use/i.test(l));
	return (errors.length > 0 ? errors : lines).slice(-count).map((l) => l.slice(0, FAILED_START_LINE_CHARS));
}

/** Something the harness started that exited or never became ready, quoting its last (error) log lines. */
export class StartError extends Error {
	readonly logLines: string[];

	constructor(what: string, why: string, logLines: string[], logFile?: string) {
		const tail = logLines.map((l) => `    ${l}`).join("\n") || "    (nothing)";
		super(`${what} did not start (${why})${logFile ? `; its log (${logFile}) ends with:\n${tail}` : ""}`);
		this.name = "StartError";
		this.logLines = logLines;
	}

	/** True when it could not bind a port (taken between the probe and its bind). */
	get addressInUse(): boolean {
		return this.logLines.some((l) => /address (already )?in use|os error 98|EADDRINUSE|is already in use/i.test(l));
	}
}
