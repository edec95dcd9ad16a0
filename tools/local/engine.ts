// Starts and stops a real Rivet Engine (the binary in `@rivetkit/engine-cli`)
// for local development and tests. rivetkit's own auto-spawned engine is
// orphaned, shares `~/.rivetkit` and writes no topology (serverless mode then
// works on port 6420 only); owning the process lets the launcher and the tests
// pick ports and a data dir and stop exactly what they started, by PID.

import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { StartError, startDaemon } from "./daemon.ts";
import { freeEnginePort } from "./ports.ts";

const require = createRequire(import.meta.url);

/** How long the engine gets to answer `/health` after spawning. */
const ENGINE_BOOT_TIMEOUT_MS = 30_000;
/** What the engine logs when one of its ports is taken ("service crashed … Address in use (os error 98)"). */
const ADDRESS_IN_USE = /address (already )?in use|os error 98/i;
/** How long a SIGTERM gets before the engine is killed with SIGKILL. */
const ENGINE_STOP_TIMEOUT_MS = 5_000;

/**
 * What rivetkit's dev auto-spawn sets (read from an engine a registry spawned);
 * without them the engine retries, reschedules and shuts down far more slowly.
 * Each yields to the same variable in the launcher's environment (`engineTuning`).
 */
export const LOCAL_ENGINE_TUNING: Record<string, string> = {
	RIVET__FEATURES__GUARD_GATEWAY_V3__MODE: "on",
	RIVET__FEATURES__GUARD_GATEWAY_V3__PERCENTAGE: "100",
	RIVET__PEGBOARD__BASE_RETRY_TIMEOUT: "100",
	RIVET__PEGBOARD__RETRY_RESET_DURATION: "100",
	RIVET__PEGBOARD__RESCHEDULE_BACKOFF_MAX_EXPONENT: "1",
	RIVET__PEGBOARD__MIN_METADATA_POLL_INTERVAL: "1000",
	RIVET__PEGBOARD__ENVOY_ELIGIBLE_THRESHOLD: "5000",
	RIVET__PEGBOARD__ENVOY_LOST_THRESHOLD: "7000",
	RIVET__PEGBOARD__RUNNER_ELIGIBLE_THRESHOLD: "5000",
	RIVET__PEGBOARD__RUNNER_LOST_THRESHOLD: "7000",
	RIVET__RUNTIME__FORCE_SHUTDOWN_DURATION: "2",
	RIVET__RUNTIME__GUARD_SHUTDOWN_DURATION: "1",
	RIVET__RUNTIME__WORKER_SHUTDOWN_DURATION: "1",
	RIVET__TELEMETRY__ENABLED: "false",
	// Without TCP_NODELAY on guard's sockets, a reply written in two pieces
	// waits for the peer's delayed ACK (up to 40 ms on Linux) between them.
	// lab:start (the README's lab removal block deletes these lines)
	// The lab's bench (docs/performance.md) shows what it changes and the
	// stall that remains on the app's side.
	// lab:end
	RIVET__GUARD__TCP_NODELAY: "true",
};

/**
 * Added to every engine's config. The engine sheds new workflows (actor
 * creation too) above 70 % machine CPU, down to 5 % of them at 90 %, and a shed
 * one can wait out the client's 15 s route timeout; on a machine shared with
 * the tests that load is not the engine's, so every workflow is admitted (as in
 * Rivet's own test fixtures). Only a config file can set this.
 */
const SHARED_MACHINE_CONFIG = {
	runtime: {
		worker_load_shedding_curve: [
			[0, 1_000],
			[1_000, 999],
		],
	},
};

/**
 * With `RUST_BACKTRACE=1` inherited (many developers' and CI machines), the
 * engine walks its whole unwind table for every routine error value it creates.
 * Measured on 2.3.19 (2 cores, A/B pairs): 50 creations at once took 8.8 engine
 * CPU-seconds at 6.8/s; with this, 3.8 at 14/s. Panics still print backtraces.
 */
const ENGINE_PROCESS_ENV: Record<string, string> = {
	RUST_LIB_BACKTRACE: "0",
};

/**
 * The engine's own `RUST_LOG` (the app server's core reads `RUST_LOG` too): any
 * filter, or `inherit` to pass the launcher's `RUST_LOG` (docs/configuration.md).
 */
export const ENGINE_LOG_VARIABLE = "FLEET_ENGINE_LOG";
const DEFAULT_ENGINE_LOG = "warn";

export function engineLogEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
	const filter = env[ENGINE_LOG_VARIABLE];
	if (filter === "inherit") return {};
	return { RUST_LOG: filter || DEFAULT_ENGINE_LOG };
}

/**
 * The CPUs a local engine may use (a `taskset` list, or "all"; default: one each). Each `munmap` of a
 * process that ran on several CPUs flushes every one's TLB, half the engine's CPU on a VM (`perf`).
 * Measured on 2.3.19, 2 vCPUs, A/B: gateway actions 210/s → 340/s, 50 creations 17.6/s → 34/s.
 */
export const ENGINE_CPUS_VARIABLE = "FLEET_ENGINE_CPUS";
let enginesStarted = 0;

/** The CPUs this process may run on (`Cpus_allowed_list`, e.g. "0-3,8"), or null off Linux. */
function allowedCpus(): number[] | null {
	try {
		const status = readFileSync("/proc/self/status", "utf8");
		const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
		if (!list) return null;
		return list.split(",").flatMap((part) => {
			const [from, to = from] = part.split("-").map(Number);
			if (from === undefined || to === undefined) return [];
			return Array.from({ length: to - from + 1 }, (_, i) => from + i);
		});
	} catch {
		return null;
	}
}

function defaultEngineCpu(): string {
	// Spread over the allowed CPUs by process and by engine, so parallel test
	// files' engines and a cluster's nodes do not all share one.
	const cpus = allowedCpus();
	if (!cpus || cpus.length === 0) return "all";
	return String(cpus[(process.pid + enginesStarted++) % cpus.length]);
}

/** Pins every thread of the engine (later ones inherit it); returns the list, or "all" if unpinned. */
function pinEngine(pid: number, cpus: string): string {
	if (process.platform !== "linux" || cpus === "all") return "all";
	try {
		execFileSync("taskset", ["--all-tasks", "--cpu-list", "--pid", cpus, String(pid)], { stdio: "ignore" });
		return cpus;
	} catch {
		// No taskset (util-linux), or a list the machine does not have: unpinned.
		return "all";
	}
}

/** `LOCAL_ENGINE_TUNING` without the variables `env` sets (non-empty): the engine inherits those. */
export function engineTuning(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
	return Object.fromEntries(Object.entries(LOCAL_ENGINE_TUNING).filter(([name]) => !env[name]));
}

export interface EngineOptions {
	/** Public (guard) port: clients, the gateway and the management API. */
	port: number;
	/** Folder for the engine's RocksDB data, config file and log. */
	dataDir: string;
	/** Extra `RIVET__*` settings, applied after the local tuning. */
	env?: Record<string, string>;
	/** A cluster node's config file instead of the single-node one (it names the database). */
	configFile?: string;
	/** Off for a cluster node: its committed config file alone decides. */
	localTuning?: boolean;
}

export interface RunningEngine {
	url: string;
	pid: number;
	/** The CPUs the engine runs on, as a `taskset` list, or "all". */
	cpus: string;
	process: ChildProcess;
	/** SIGTERM, then SIGKILL after a grace period. Resolves once the process is gone. */
	stop(): Promise<void>;
	/** SIGKILL, for crash tests. Resolves once the process is gone. */
	kill(): Promise<void>;
}

export function enginePath(): string {
	const cli = require("@rivetkit/engine-cli") as { getEnginePath(): string };
	return cli.getEnginePath();
}

/** The engine's own public URL, which serverless apps compare with their endpoint on every `/start`. */
function writeTopologyConfig(dataDir: string, host: string, port: number): string {
	const config = {
		topology: {
			datacenter_label: 1,
			datacenters: {
				default: {
					datacenter_label: 1,
					is_leader: true,
					public_url: `http://${host}:${port}`,
					peer_url: `http://${host}:${port + 1}`,
				},
			},
		},
	};
	const file = path.join(dataDir, "config.json");
	writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
	return file;
}

function writeSharedMachineConfig(dataDir: string): string {
	const file = path.join(dataDir, "shared-machine.json");
	writeFileSync(file, `${JSON.stringify(SHARED_MACHINE_CONFIG, null, 2)}\n`);
	return file;
}

/** Where `startEngine` records the engine's pid (see `startDaemon`). */
export function enginePidFile(dataDir: string): string {
	return path.join(dataDir, "engine.pid");
}

export async function isEngineHealthy(url: string, timeoutMs = 1_000): Promise<boolean> {
	try {
		const res = await fetch(new URL("/health", url), { signal: AbortSignal.timeout(timeoutMs) });
		if (!res.ok) return false;
		const body = (await res.json()) as { runtime?: string; status?: string };
		return body.runtime === "engine" && body.status === "ok";
	} catch {
		return false;
	}
}

export async function startEngine(options: EngineOptions): Promise<RunningEngine> {
	const host = "127.0.0.1";
	const { port, dataDir } = options;
	mkdirSync(dataDir, { recursive: true });
	const configFile = options.configFile ?? writeTopologyConfig(dataDir, host, port);
	const url = `http://${host}:${port}`;
	const daemon = await startDaemon({
		name: "the Rivet Engine",
		command: enginePath(),
		// Later config files override earlier ones.
		args: ["start", "--config", configFile, "--config", writeSharedMachineConfig(dataDir)],
		logFile: path.join(dataDir, "engine.log"),
		env: {
			...ENGINE_PROCESS_ENV,
			// A cluster finds its lease holder by an info line of the engine's log: no log filter there.
			...(options.localTuning === false ? {} : { ...engineLogEnv(), ...engineTuning() }),
			RIVET__GUARD__HOST: host,
			RIVET__GUARD__PORT: String(port),
			RIVET__API_PEER__HOST: host,
			RIVET__API_PEER__PORT: String(port + 1),
			RIVET__METRICS__HOST: host,
			RIVET__METRICS__PORT: String(port + 10),
			...(options.configFile ? {} : { RIVET__FILE_SYSTEM__PATH: path.join(dataDir, "db") }),
			...options.env,
		},
		ready: () => isEngineHealthy(url),
		bootTimeoutMs: ENGINE_BOOT_TIMEOUT_MS,
		stopTimeoutMs: ENGINE_STOP_TIMEOUT_MS,
		pidFile: enginePidFile(dataDir),
		// The engine retries a taken port forever; fail at once so `startEngineOnFreePort` moves on.
		fatalLogLine: ADDRESS_IN_USE,
	});
	// Once it answers, its long-lived threads exist; later ones inherit the mask.
	const cpus = pinEngine(daemon.pid, process.env[ENGINE_CPUS_VARIABLE] || defaultEngineCpu());
	return { url, pid: daemon.pid, cpus, process: daemon.process, stop: daemon.stop, kill: daemon.kill };
}

/** How many grid slots a start tries when a program outside this repo holds the chosen ports. */
const ENGINE_PORT_ATTEMPTS = 5;

/** Starts an engine on a reserved slot (`freeEnginePort`), on another if a program outside this repo took a port. */
export async function startEngineOnFreePort(options: Omit<EngineOptions, "port">): Promise<RunningEngine> {
	for (let attempt = 1; ; attempt++) {
		const port = await freeEnginePort();
		try {
			return await startEngine({ ...options, port });
		} catch (error) {
			if (!(error instanceof StartError && error.addressInUse) || attempt >= ENGINE_PORT_ATTEMPTS) throw error;
			console.warn(`the engine found a port of ${port}…${port + 10} taken; trying other ports`);
		}
	}
}
