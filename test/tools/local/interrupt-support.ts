// Runs a command of this repo as a user would (`npm start`, `npm run dev`…),
// interrupts it once it prints a phase marker (the lab's interruption tests),
// and finds every process it left.
//
// Every process a run starts inherits its unique `FLEET_RUN_MARKER`, so its
// leftovers are found in `/proc/*/environ`, not guessed from command lines.

// lab:start (the README's lab removal block deletes these lines)
import { expect } from "vitest";
// lab:end

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { PROJECT_ROOT } from "../../../tools/local/app-server.ts";
import { track } from "../../../tools/local/lifecycle.ts";

/** Generous: a phase on a loaded two-core machine (a web build, an engine boot) can take a while. */
export const PHASE_TIMEOUT_MS = 90_000;
/** How long a command may take to stop everything once interrupted (an app server drains for up to 20 s). */
export const STOP_TIMEOUT_MS = 60_000;
/** A test's limit: a phase, the stop and the leftover check, so a slow phase fails with its own message. */
export const INTERRUPT_TEST_TIMEOUT_MS = PHASE_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000;

// lab:start (the README's lab removal block deletes these lines)
/** How an interruption is delivered. */
export type Interruption =
	/** Ctrl-C in a terminal: SIGINT to every process of the foreground group. */
	| "SIGINT to the group"
	/** What `timeout`, systemd and CI send: SIGTERM to the top process only. */
	| "SIGTERM to the top process";
// lab:end

export interface Run {
	child: ChildProcess;
	marker: string;
	output(): string;
	/** Resolves with the exit code (or signal) once the top process is gone. */
	exited: Promise<number | string>;
}

/** A command such as `npm start` in its own process group, as a shell starts a foreground job. */
export function runCommand(command: string, args: string[], env: Record<string, string>): Run {
	const marker = randomUUID();
	const child = spawn(command, args, {
		cwd: PROJECT_ROOT,
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, ...env, FLEET_RUN_MARKER: marker },
	});
	let output = "";
	child.stdout?.on("data", (chunk: Buffer) => {
		output += chunk.toString();
	});
	child.stderr?.on("data", (chunk: Buffer) => {
		output += chunk.toString();
	});
	const exited = new Promise<number | string>((resolve) =>
		child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
	);
	// A test worker stopped mid-test (test/setup/orphans.ts) stops the command as Ctrl-C
	// would, then kills it; once it outlived the run, re-parented to init.
	const pid = child.pid;
	if (pid !== undefined) {
		const forget = track({
			name: `${command} ${args.join(" ")}`,
			pid,
			stop: () => stopGroup(pid, exited),
		});
		void exited.then(forget);
	}
	return { child, marker, output: () => output, exited };
}

/** Sends `signal` to the process group `pid` leads, if it is still there. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pid, signal);
	} catch {
		// The group is gone already.
	}
}

/** SIGINT to the command's group, then SIGKILL if it has not exited within STOP_TIMEOUT_MS. */
async function stopGroup(pid: number, exited: Promise<unknown>): Promise<void> {
	signalGroup(pid, "SIGINT");
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<"late">((resolve) => {
		timer = setTimeout(() => resolve("late"), STOP_TIMEOUT_MS);
	});
	if ((await Promise.race([exited, late])) === "late") signalGroup(pid, "SIGKILL");
	clearTimeout(timer);
}

// lab:start (the README's lab removal block deletes these lines)
export function interrupt(run: Run, how: Interruption): void {
	const pid = run.child.pid;
	if (pid === undefined) throw new Error("the command never started");
	if (how === "SIGINT to the group") process.kill(-pid, "SIGINT");
	else process.kill(pid, "SIGTERM");
}
// lab:end

/** Every live process whose environment carries `marker`, with its command line. */
export function processesOfRun(marker: string): string[] {
	const found: string[] = [];
	const needle = `FLEET_RUN_MARKER=${marker}`;
	for (const entry of readdirSync("/proc")) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid === process.pid) continue;
		try {
			const status = readFileSync(`/proc/${pid}/status`, "utf8");
			// A zombie has exited; only its parent's bookkeeping is left.
			if (/^State:\s+Z/m.test(status)) continue;
			if (!readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(needle)) continue;
			found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()}`);
		} catch {
			// Exited while we looked, or not ours to read.
		}
	}
	return found;
}

// lab:start (the README's lab removal block deletes these lines)
/** Polls until `text` appears in the run's output, or fails with that output. */
export async function waitForOutput(run: Run, text: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let exitedEarly = false;
	void run.exited.then(() => {
		exitedEarly = true;
	});
	while (!run.output().includes(text)) {
		if (exitedEarly || Date.now() > deadline) {
			throw new Error(`never printed "${text}"${exitedEarly ? " (it exited)" : ""}; output:\n${run.output()}`);
		}
		await new Promise((r) => setTimeout(r, 20));
	}
}
// lab:end

/** SIGKILL to the run's whole process group, if any of it is left: a failed test must not leave processes either. */
export function killGroup(run: Run): void {
	if (run.child.pid !== undefined) signalGroup(run.child.pid, "SIGKILL");
}

// lab:start (the README's lab removal block deletes these lines)
/**
 * Waits for `phase` in the run's output, interrupts it `how`, and checks that
 * it exits and that no process of it is left; returns its output.
 */
export async function interruptAtPhase(
	run: Run,
	phase: string,
	how: Interruption,
	timeouts: { phaseMs?: number; stopMs?: number } = {},
): Promise<string> {
	try {
		await waitForOutput(run, phase, timeouts.phaseMs ?? PHASE_TIMEOUT_MS);
		interrupt(run, how);
		const code = await Promise.race([
			run.exited,
			new Promise<string>((r) => setTimeout(() => r("still running"), timeouts.stopMs ?? STOP_TIMEOUT_MS)),
		]);
		expect(code, run.output()).not.toBe("still running");
		// Watchers notice their daemon is gone within a second or two.
		await expect.poll(() => processesOfRun(run.marker), { timeout: 20_000 }).toEqual([]);
		return run.output();
	} finally {
		// Whatever the assertions said, this test leaves nothing behind either.
		killGroup(run);
	}
}
// lab:end
