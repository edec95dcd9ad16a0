// Every process a command of this repo starts is stopped when the command
// stops, whatever phase it is in and whichever signal arrives.
//
// Two mechanisms, because they cover different ways of ending:
// - `track()` records each child from the moment it is spawned, and
//   `exitOnSignals()` (installed by each command before it starts anything)
//   stops the recorded children newest first on SIGINT (Ctrl-C reaches the
//   whole process group), SIGTERM (what `timeout`, systemd and CI send to the
//   top process) and SIGHUP (a closed terminal). Newest first is the reverse
//   of the start order, so app servers drain their actors into a live engine
//   before the engine stops.
// - `watchParent()` starts a tiny shell process beside each detached daemon
//   that stops the daemon once the process that started it is gone. It covers
//   what no handler can: a launcher or test runner killed with SIGKILL, or one
//   that exits without running its handlers. (Daemons run in their own process
//   group, so Ctrl-C never reaches them directly; see `daemon.ts`.)

import { spawn } from "node:child_process";

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
 * Installs the handlers that stop every tracked child on SIGINT, SIGTERM or
 * SIGHUP and then exit (128 + the signal's number, as a shell reports it).
 * Call it first thing in a command. `beforeStop` runs first (e.g. closing an
 * in-process Vite server). A second signal while stopping kills what is left
 * with SIGKILL, so a user who presses Ctrl-C twice is never kept waiting.
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

	// npm 11 does not pass SIGTERM on to the script it runs: `kill <npm's pid>`
	// ends npm alone and the command would go on as an orphan. Measured: a
	// script under `npm run` got no signal and was re-parented. So a command
	// treats the loss of the process that started it like SIGTERM.
	onParentLoss((parent) => {
		if (shuttingDown) return;
		log(`the process that started this command (pid ${parent}) is gone`);
		onSignal("SIGTERM");
	});
}

/**
 * Calls `callback` once, when the process that started this one has exited
 * (this process was re-parented). Checked every `PARENT_CHECK_INTERVAL_MS`;
 * the check never keeps the process alive.
 */
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
/** Marker in the watcher's command line, so tests can find watchers that outlived their daemon. */
export const WATCHER_NAME = "actor-fleet-watcher";

// POSIX sh, no bashisms. While the daemon lives: if the parent is gone, send
// the daemon its stop signal, give it `grace` seconds, then SIGKILL. Exits as
// soon as the daemon is gone, whoever stopped it.
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

/**
 * Starts a watcher that stops `pid` (with `signal`, then SIGKILL after
 * `graceMs`) once this process has exited. The watcher is detached (its own
 * process group, so Ctrl-C does not end it before it has done its job) and
 * exits by itself when the daemon does.
 */
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
