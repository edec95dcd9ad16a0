// Starts and stops a real Rivet Engine for local development and tests.
//
// The engine binary ships inside rivetkit's npm dependencies
// (`@rivetkit/engine-cli`), so nothing is downloaded and no account is needed.
// We spawn it ourselves instead of letting rivetkit auto-spawn it because the
// auto-spawned engine is intentionally orphaned, shares `~/.rivetkit` per user
// and writes no topology, which breaks serverless mode on any port but 6420.
// Owning the process lets the launcher and the tests pick ports and a data dir
// and stop exactly what they started, by PID.

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
 * Settings that rivetkit's own dev auto-spawn applies (read from the
 * environment of an engine that a registry spawned). Without them a
 * self-spawned engine retries, reschedules and shuts down far more slowly.
 * They suit one machine; a production engine is configured by its operator.
 * Each one yields to the same variable set in the launcher's environment
 * (`engineTuning()`), so any of them can be measured or changed without an edit.
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
	// Guard's accepted sockets (clients, and the app's envoy connection) get
	// TCP_NODELAY. Without it a reply the engine writes in more than one piece
	// waits for the peer's delayed ACK (up to 40 ms on Linux) before its second
	// piece leaves.
	// lab:start (the README's lab removal block deletes these lines)
	// The lab's bench (docs/performance.md) shows what it changes and the
	// stall that remains on the app's side.
	// lab:end
	RIVET__GUARD__TCP_NODELAY: "true",
};

/**
 * Config this launcher adds to every engine it starts, on top of the topology
 * or cluster config. The engine sheds new workflows (actor creation among
 * them) once the machine's average CPU use passes 70 %, down to 5 % of them
 * at 90 %, and a shed workflow can stay unpicked until the client's 15 s
 * route timeout (`pegboard/route_resolve_query_timeout`). On a laptop or CI
 * machine that the engine shares with the tests, their load is not the
 * engine's, so the curve is flattened to admit every workflow (the same
 * setting Rivet's own test fixtures use). A production engine on a machine of
 * its own keeps its default shedding. Only a config file can set this: the
 * matching environment variable is rejected.
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
 * Process environment for every engine this launcher starts, cluster nodes
 * included. `RUST_LIB_BACKTRACE=0` stops the engine from capturing a stack
 * trace for every error value it creates, many of which are routine (a
 * workflow waiting, a retry). Capture is on whenever `RUST_BACKTRACE=1` is
 * set, as it is on many Rust developers' machines and on this project's CI
 * machines, and the engine binary has no unwind index, so each capture walks
 * its whole unwind table. Measured on 2.3.19 (2 cores, `RUST_BACKTRACE=1`
 * inherited, A/B pairs): creating 50 counters at once took 8.8 engine
 * CPU-seconds and ran at 6.8/s; with this, 3.8 CPU-seconds and 14/s.
 * Panics still print their backtrace when `RUST_BACKTRACE` asks for one.
 */
const ENGINE_PROCESS_ENV: Record<string, string> = {
	RUST_LIB_BACKTRACE: "0",
};

/**
 * The engine's log filter (its `RUST_LOG`), set only on the engine: the app
 * server's rivetkit core reads `RUST_LOG` too. `FLEET_ENGINE_LOG=debug` (any
 * `RUST_LOG` filter) changes it; `FLEET_ENGINE_LOG=inherit` passes the
 * launcher's own `RUST_LOG`, or none, as before this setting existed.
 */
export const ENGINE_LOG_VARIABLE = "FLEET_ENGINE_LOG";
const DEFAULT_ENGINE_LOG = "warn";

export function engineLogEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
	const filter = env[ENGINE_LOG_VARIABLE];
	if (filter === "inherit") return {};
	return { RUST_LOG: filter || DEFAULT_ENGINE_LOG };
}

/**
 * Which CPUs a local engine may run on, as a `taskset` list ("1", "0-3"), or
 * "all". By default each engine gets one CPU (engines started together get
 * different ones). Why: the engine's allocator returns memory to the kernel
 * constantly, and every `munmap` of a process whose threads ran on several
 * CPUs makes the kernel interrupt each of them to flush its TLB. On a
 * virtual machine those interrupts are expensive: `perf` of the engine under
 * gateway load put half its CPU time in that flush. Measured on 2.3.19, 2
 * vCPUs, A/B pairs in one session: gateway actions at 50 connections
 * 210/s → 340/s and 7.7 → 2.8 engine CPU-milliseconds per action; 50
 * concurrent creations 17.6/s → 34/s. One CPU is plenty for a development or
 * test engine; a production engine runs on a machine of its own, configured
 * by its operator. Linux only (elsewhere, or without `taskset`, nothing is
 * pinned).
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

/**
 * Pins every thread of the running engine to `cpus` and returns the list it
 * runs on ("all" when nothing was pinned). Threads the engine creates later
 * inherit it from the thread that creates them.
 */
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

/**
 * `LOCAL_ENGINE_TUNING` without the variables `env` sets itself (to anything
 * but an empty string): the engine inherits the launcher's environment, so
 * those reach it as they are.
 */
export function engineTuning(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
	return Object.fromEntries(Object.entries(LOCAL_ENGINE_TUNING).filter(([name]) => !env[name]));
}

export interface EngineOptions {
	/** Public (guard) port: clients, the gateway and the management API. */
	port: number;
	/** Folder for the engine's RocksDB data, config file and log. */
	dataDir: string;
	host?: string;
	/** Extra `RIVET__*` settings, applied after the local tuning. */
	env?: Record<string, string>;
	/** Where the engine's stdout/stderr go. Defaults to `<dataDir>/engine.log`. */
	logFile?: string;
	/**
	 * A config file to load instead of the single-node one this launcher
	 * writes: a cluster node's (PostgreSQL + NATS, shared public URL). The
	 * database then comes from that file, so no file-system path is set (the
	 * engine rejects a config naming both).
	 */
	configFile?: string;
	/**
	 * Apply `LOCAL_ENGINE_TUNING` (default). A cluster node turns it off so
	 * that its committed config file alone decides how it behaves.
	 */
	localTuning?: boolean;
	/**
	 * CPUs for the engine (see `ENGINE_CPUS_VARIABLE`); defaults to that
	 * variable, else one CPU.
	 */
	cpus?: string;
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

/**
 * The topology config tells the engine its own public URL. Serverless apps
 * compare it with their configured endpoint on every `/start`, so it must
 * match the URL clients and the app use ("endpoint mismatch" otherwise).
 */
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
	const host = options.host ?? "127.0.0.1";
	const { port, dataDir } = options;
	mkdirSync(dataDir, { recursive: true });

	const configFile = options.configFile ?? writeTopologyConfig(dataDir, host, port);
	const url = `http://${host}:${port}`;
	// The daemon helper records the PID in the data dir: a launcher killed with
	// SIGKILL cannot stop its engine, and the next start on that data dir stops
	// the leftover first so the dir's lock is free again.
	const daemon = await startDaemon({
		name: "the Rivet Engine",
		command: enginePath(),
		// Later config files override earlier ones.
		args: ["start", "--config", configFile, "--config", writeSharedMachineConfig(dataDir)],
		logFile: options.logFile ?? path.join(dataDir, "engine.log"),
		env: {
			...ENGINE_PROCESS_ENV,
			// Not on cluster nodes: a cluster finds the lease holder by an info
			// line of the engine's log.
			// lab:start (the README's lab removal block deletes these lines)
			// The lab's cluster is tools/local/cluster.ts.
			// lab:end
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
		// The engine retries a service whose port is taken once a second without
		// exiting; waiting for its boot timeout would only delay the retry on
		// other ports (`startEngineOnFreePort`).
		fatalLogLine: ADDRESS_IN_USE,
	});
	// Once it answers, its long-lived threads exist; later ones inherit the mask.
	const cpus = pinEngine(daemon.pid, options.cpus ?? (process.env[ENGINE_CPUS_VARIABLE] || defaultEngineCpu()));
	return { url, pid: daemon.pid, cpus, process: daemon.process, stop: daemon.stop, kill: daemon.kill };
}

/** How many grid slots a start tries when a program outside this repo holds the chosen ports. */
const ENGINE_PORT_ATTEMPTS = 5;

/**
 * Starts an engine on a reserved slot of free ports (`freeEnginePort`). If the
 * engine still finds one of them taken (by a program that does not use this
 * repo's reservations), it tries another slot; any other failure is thrown
 * with the engine's own error lines.
 */
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
