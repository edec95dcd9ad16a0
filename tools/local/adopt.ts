// Whether `npm start` may use an engine that already answers on its endpoint
// instead of starting its own.
//
// Seen once: an engine still shutting down answered once, was adopted, and
// was gone a moment later. So an engine must answer every health check over a
// short window, and is never the launcher's own leftover (replaced, so Ctrl-C
// stops it again) or one rivetkit spawned itself (data in ~/.rivetkit). Which
// process serves the port is read from /proc (Linux only).

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { isAlive } from "./daemon.ts";
import { isEngineHealthy } from "./engine.ts";

/** Health checks an engine must all answer before it is adopted. */
export const STEADY_HEALTH_CHECKS = 4;
/** Longer than the ~1 s a stopping engine still answers (`RIVET__RUNTIME__GUARD_SHUTDOWN_DURATION`). */
export const STEADY_WINDOW_MS = 2_000;

/** What the launcher does with an engine that answers on its endpoint. */
export type Adoption =
	| { verdict: "none" }
	| { verdict: "adopt"; pid: number | null; dataDir: string | null }
	| { verdict: "replace-own-leftover"; pid: number }
	| { verdict: "refuse"; reason: string };

export interface AdoptionOptions {
	/** The pid file the launcher's own engine writes in its data dir (`startEngine`). */
	ownPidFile: string;
	/** Called after each health check, with its outcome (tests stop the engine from here). */
	onCheck?: (answered: boolean, index: number) => void | Promise<void>;
}

/** Decides whether the engine answering on `url` (if any) may be adopted. */
export async function decideAdoption(url: string, options: AdoptionOptions): Promise<Adoption> {
	const steady = await checkSteady(url, options.onCheck);
	if (steady.answered === 0) return { verdict: "none" };
	if (steady.answered < STEADY_HEALTH_CHECKS) {
		return {
			verdict: "refuse",
			reason:
				`an engine answers on ${url}, but only ${steady.answered} of ${STEADY_HEALTH_CHECKS} health checks over ` +
				`${STEADY_WINDOW_MS / 1_000} s succeeded: it is probably still shutting down (a previous run) or starting. ` +
				"Wait a few seconds and run `npm start` again; if it keeps happening, stop whatever listens on " +
				`port ${new URL(url).port} (\`ss -ltnp 'sport = :${new URL(url).port}'\` shows it).`,
		};
	}
	const pid = listenerPid(Number(new URL(url).port));
	if (pid !== null && pid === recordedPid(options.ownPidFile)) return { verdict: "replace-own-leftover", pid };
	const rivetkitPid = recordedPid(rivetkitRuntimeFile());
	if (pid !== null && pid === rivetkitPid) {
		return {
			verdict: "refuse",
			reason:
				`the engine on ${url} (pid ${pid}) was started by rivetkit itself, with its data in ` +
				`${path.dirname(rivetkitRuntimeFile())}, not in this project's data dir. Stop it (\`kill ${pid}\`) ` +
				"and run `npm start` again.",
		};
	}
	return { verdict: "adopt", pid, dataDir: pid === null ? null : engineDataDir(pid) };
}

/** Runs the health checks, evenly spaced over the window; stops at the first that fails. */
async function checkSteady(url: string, onCheck: AdoptionOptions["onCheck"]): Promise<{ answered: number }> {
	const gapMs = STEADY_WINDOW_MS / (STEADY_HEALTH_CHECKS - 1);
	let answered = 0;
	for (let i = 0; i < STEADY_HEALTH_CHECKS; i++) {
		if (i > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
		const ok = await isEngineHealthy(url);
		await onCheck?.(ok, i);
		if (!ok) break;
		answered++;
	}
	return { answered };
}

/** rivetkit's record of the engine it spawned (`$RIVETKIT_STORAGE_PATH/.rivetkit`, else `~/.rivetkit`). */
function rivetkitRuntimeFile(): string {
	const root = process.env.RIVETKIT_STORAGE_PATH || homedir();
	return path.join(root, ".rivetkit", "var", "engine", "runtime.json");
}

/** The live pid a pid file (plain or rivetkit's JSON `{ "pid": … }`) names, or null. */
function recordedPid(file: string): number | null {
	let text: string;
	try {
		text = readFileSync(file, "utf8").trim();
	} catch {
		return null;
	}
	let pid = Number(text);
	if (text.startsWith("{")) {
		try {
			pid = Number((JSON.parse(text) as { pid?: unknown }).pid);
		} catch {
			return null;
		}
	}
	return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
}

/** The pid listening on a loopback TCP port (its socket inode in /proc/net/tcp{,6}), or null. */
export function listenerPid(port: number): number | null {
	const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
	const inodes = new Set<string>();
	for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
		let lines: string[];
		try {
			lines = readFileSync(table, "utf8").split("\n").slice(1);
		} catch {
			continue;
		}
		for (const line of lines) {
			const fields = line.trim().split(/\s+/);
			// local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode.
			if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A" && fields[9]) inodes.add(fields[9]);
		}
	}
	if (inodes.size === 0) return null;
	let entries: string[];
	try {
		entries = readdirSync("/proc");
	} catch {
		return null;
	}
	for (const entry of entries) {
		const pid = Number(entry);
		if (!Number.isInteger(pid)) continue;
		let fds: string[];
		try {
			fds = readdirSync(`/proc/${pid}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			try {
				const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
				if (inodes.has(target.slice("socket:[".length, -1)) && target.startsWith("socket:[")) return pid;
			} catch {
				// The fd closed meanwhile.
			}
		}
	}
	return null;
}

/** The engine's data dir, from the environment it was started with (`RIVET__FILE_SYSTEM__PATH`), if readable. */
function engineDataDir(pid: number): string | null {
	try {
		const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
		const line = environ.find((l) => l.startsWith("RIVET__FILE_SYSTEM__PATH="));
		return line ? line.slice("RIVET__FILE_SYSTEM__PATH=".length) : null;
	} catch {
		return null;
	}
}
