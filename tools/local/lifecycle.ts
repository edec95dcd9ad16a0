// Every process a command of this repo starts stops with the command:
// - `track()` records each child from its spawn; `exitOnSignals()` stops them
//   newest first (app servers drain into a live engine before it stops) on
//   SIGINT, SIGTERM or SIGHUP.
// - `watchParent()` starts a tiny shell beside each detached daemon that stops
//   it once its starter is gone: what no handler covers (SIGKILL, an exit that
//   skips the handlers).

import { type ChildProcess, spawn } from "node:child_process";

export interface TrackedProcess {
	/** Shown while stopping, e.g. "the Rivet Engine". */
	name: string;
	pid: number;
	/** A clean stop that resolves once the process is gone. */
	stop(): Promise<unknown>;
}

const tracked: TrackedProcess[] = [];
let shuttingDown = false;

/** Records a child until it is stopped; returns the function that forgets it. */
export function track(entry: TrackedProcess): () => void {
	tracked.push(entry);
	return () => {
		const index = tracked.indexOf(entry);
		if (index >= 0) tracked.splice(index, 1);
	};
}

/** Tracks `child` until `exited` settles; stopping it is SIGTERM, then waiting for that exit. */
export function trackChild(name: string, child: ChildProcess, exited: Promise<unknown>): void {
	if (child.pid === undefined) return;
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
		await exited.catch(() => {});
	};
	const untrack = track({ name, pid: child.pid, stop });
	void exited.then(untrack, untrack);
}

/** True once a signal has started the shutdown: a failing start-up step should then wait, not report. */
export function isShuttingDown(): boolean {
	return shuttingDown;
}

/** Stops every tracked child, newest first, one after another. */
export async function stopTracked(log: (line: string) => void = () => {}): Promise<void> {
	while (tracked.length > 0) {
		const entry = tracked.pop();
		if (!entry) break;
		log(`stopping ${entry.name} (pid ${entry.pid})`);
		await entry.stop().catch(() => {});
	}
}

const EXIT_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * Call first in a command: on SIGINT, SIGTERM or SIGHUP, runs `beforeStop`, stops
 * every tracked child and exits 128 + the signal's number; a second signal SIGKILLs what is left.
 */
export function exitOnSignals(options: { log?: (line: string) => void; beforeStop?: () => Promise<void> } = {}): void {
	const log = options.log ?? ((line: string) => console.log(`• ${line}`));
	const onSignal = (signal: NodeJS.Signals) => {
		if (shuttingDown) {
			for (const entry of tracked) {
				try {
					process.kill(entry.pid, "SIGKILL");
				} catch {
					// Already gone.
				}
			}
			process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
		}
		shuttingDown = true;
		log(`${signal}: stopping everything this command started`);
		void (async () => {
			await options.beforeStop?.().catch(() => {});
			await stopTracked(log);
			log("stopped");
			process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
		})();
	};
	for (const signal of EXIT_SIGNALS) process.on(signal, onSignal);

	// npm 11 does not pass SIGTERM on to its script (measured: no signal, then
	// re-parented), so losing the process that started it counts as SIGTERM.
	onParentLoss((parent) => {
		if (shuttingDown) return;
		log(`the process that started this command (pid ${parent}) is gone`);
		onSignal("SIGTERM");
	});
}

/** Calls `callback` once this process is re-parented; the check never keeps the process alive. */
export function onParentLoss(callback: (parentPid: number) => void): void {
	const parent = process.ppid;
	const timer = setInterval(() => {
		if (process.ppid === parent) return;
		clearInterval(timer);
		callback(parent);
	}, PARENT_CHECK_INTERVAL_MS);
	timer.unref();
}

/** How often a command checks that the process that started it (npm, a shell) is still there. */
const PARENT_CHECK_INTERVAL_MS = 250;

/** How often a watcher checks its two processes. */
const WATCH_INTERVAL_S = 1;
/** The watcher's `$0`, so `ps` names what a leftover `sh` process is. */
const WATCHER_NAME = "actor-fleet-watcher";

// POSIX sh. While the daemon lives: once the parent is gone, its stop signal,
// `grace` seconds, then SIGKILL. Exits when the daemon is gone.
const WATCHER_SCRIPT = `
parent=$1; child=$2; sig=$3; grace=$4
while kill -0 "$child" 2>/dev/null; do
  if ! kill -0 "$parent" 2>/dev/null; then
    kill -s "$sig" "$child" 2>/dev/null
    waited=0
    while kill -0 "$child" 2>/dev/null && [ "$waited" -lt "$grace" ]; do sleep 1; waited=$((waited + 1)); done
    kill -s KILL "$child" 2>/dev/null
    exit 0
  fi
  sleep ${WATCH_INTERVAL_S}
done
`;

/** Starts a detached watcher (Ctrl-C must not end it first) that stops `pid` once this process has exited. */
export function watchParent(pid: number, signal: NodeJS.Signals, graceMs: number): void {
	if (process.platform === "win32") return;
	const watcher = spawn(
		"sh",
		[
			"-c",
			WATCHER_SCRIPT,
			WATCHER_NAME,
			String(process.pid),
			String(pid),
			signal.replace(/^SIG/, ""),
			String(Math.ceil(graceMs / 1000)),
		],
		{ detached: true, stdio: "ignore" },
	);
	watcher.on("error", () => {});
	watcher.unref();
}
