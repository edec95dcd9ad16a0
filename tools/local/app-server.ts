// Runs `src/server.ts` as a child process that the launcher and the tests can stop with SIGTERM or SIGKILL.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { logTail, StartError, waitUntil } from "./daemon.ts";
import { LAUNCHER_PID_VARIABLE } from "./exit-with-launcher.ts";
import { track } from "./lifecycle.ts";

/** How long a server gets to listen: mostly imports; 7-18 s, twice over 20 s, at load 11-22 on 2 cores (2026-12-06). */
const SERVER_BOOT_TIMEOUT_MS = 60_000;
/** How long SIGTERM gets (actors drain) before SIGKILL. */
const SERVER_STOP_TIMEOUT_MS = 20_000;

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVER_ENTRY = path.join(PROJECT_ROOT, "src/server.ts");
/** Preloaded into every server started here, so it stops when this process is gone. */
export const EXIT_WITH_LAUNCHER = pathToFileURL(path.join(PROJECT_ROOT, "tools/local/exit-with-launcher.ts")).href;

export interface AppServerOptions {
	port: number;
	/** Extra environment on top of the parent's. */
	env?: Record<string, string | undefined>;
	/** Append the server's output here; by default it is inherited. */
	logFile?: string;
	/** Restart on source changes (`node --watch`). */
	watch?: boolean;
	entry?: string;
	cwd?: string;
}

export interface RunningAppServer {
	url: string;
	pid: number;
	process: ChildProcess;
	/** Resolves with the exit code once the process has exited. */
	exited: Promise<number | null>;
	/** SIGTERM: the server drains its actors and exits 0. */
	stop(): Promise<number | null>;
	/** SIGKILL, for crash tests. */
	kill(): Promise<number | null>;
}

export async function startAppServer(options: AppServerOptions): Promise<RunningAppServer> {
	const host = "127.0.0.1";
	const url = `http://${host}:${options.port}`;
	// The server stops by itself if this process dies without stopping it (exit-with-launcher.ts).
	const args = [...(options.watch ? ["--watch"] : []), `--import=${EXIT_WITH_LAUNCHER}`, options.entry ?? SERVER_ENTRY];
	let stdio: "inherit" | ["ignore", NodeJS.WritableStream, NodeJS.WritableStream] = "inherit";
	// A failed start quotes this run's lines of the (appended-to) log.
	const logStart = options.logFile && existsSync(options.logFile) ? statSync(options.logFile).size : 0;
	if (options.logFile) {
		const log = createWriteStream(options.logFile, { flags: "a" });
		await new Promise((resolve) => log.once("open", resolve));
		stdio = ["ignore", log, log];
	}
	const child = spawn(process.execPath, args, {
		cwd: options.cwd ?? PROJECT_ROOT,
		stdio: stdio as never,
		env: {
			...process.env,
			PORT: String(options.port),
			HOST: host,
			[LAUNCHER_PID_VARIABLE]: String(process.pid),
			...options.env,
		},
	});
	const pid = child.pid;
	if (pid === undefined) throw new Error("could not spawn the app server");
	const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
	let hasExited = false;
	void exited.then(() => {
		hasExited = true;
		untrack();
	});
	const signal = async (sig: NodeJS.Signals): Promise<number | null> => {
		if (!hasExited) {
			child.kill(sig);
			const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_STOP_TIMEOUT_MS);
			await exited;
			clearTimeout(timer);
		}
		return exited;
	};
	// Tracked from the moment it exists, so a signal during the boot wait
	// stops it too (it also stops by itself once this process is gone).
	const untrack = track({ name: "the app server", pid, stop: () => signal("SIGTERM") });

	// Any answer means it listens; /health may be 503 while the engine is down.
	const answers = () =>
		fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
			() => true,
			() => false,
		);
	if (!(await waitUntil(async () => hasExited || (await answers()), SERVER_BOOT_TIMEOUT_MS)) || hasExited) {
		const why = hasExited
			? `exited with code ${child.exitCode}`
			: `did not listen on ${url} within ${SERVER_BOOT_TIMEOUT_MS} ms`;
		await signal("SIGKILL");
		const lines = options.logFile ? logTail(options.logFile, logStart) : [];
		throw new StartError("the app server", why, lines, options.logFile);
	}

	return { url, pid, process: child, exited, stop: () => signal("SIGTERM"), kill: () => signal("SIGKILL") };
}
