// `npm run bench` (full) and `npm run bench -- --quick` (under 3 minutes).
//
// Starts its own engine and the project's app server (`registry.handler()`
// behind Hono) like the tests do, plus a `registry.start()` process on a
// second pool against the same engine, then runs the scenarios in order and
// prints one Markdown table (stdout) and writes the JSON under
// `bench-results/`. Progress goes to stderr. Every number is compared with
// the plain-Hono baseline measured in the same run, because this machine's
// absolute numbers move with whatever else it runs.

import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { createClient } from "rivetkit/client";
import type { Registry } from "../../src/registry.ts";
import { PROJECT_ROOT, type RunningAppServer, startAppServer } from "../local/app-server.ts";
import { engineTuning } from "../local/engine.ts";
import { exitOnSignals } from "../local/lifecycle.ts";
import { freePort } from "../local/ports.ts";
import { type Stack, startStack } from "../local/stack.ts";
import { benchCredentials } from "./lib/auth.ts";
import type { BenchContext, Scenario } from "./lib/context.ts";
import { log } from "./lib/measure.ts";
import {
	applyRatios,
	compareHandlerToStart,
	compareRuntimes,
	handlerVsStartLines,
	machineInfo,
	markdownTable,
	type RunInfo,
	runtimeLines,
	writeJson,
} from "./lib/report.ts";
// The peer groups (Miniflare): Durable Objects for the call patterns,
// Cloudflare Workflows for the job rows, and the `vs peer` column.
import { applyPeerRatios, peerLines } from "./peer/compare.ts";
import { workflowsPeer } from "./peer/jobs-scenario.ts";
import { durableObjectPeer } from "./peer/scenario.ts";
import { baseline, clientAndStart, gateway } from "./scenarios/actions.ts";
import { chatFanOut } from "./scenarios/chat.ts";
import { coldStart, phaseRows, phaseTable } from "./scenarios/cold-start.ts";
import { durableWrites } from "./scenarios/durable.ts";
import { isolation } from "./scenarios/isolation.ts";
import { coordinatorFanOut, workerJobs } from "./scenarios/jobs.ts";
import { lifecycle } from "./scenarios/lifecycle.ts";
import { START_TIMINGS_NODE_OPTIONS } from "./start-timings.ts";

// The rivetkit client logs every retried or failed call at warn level on
// stdout, which is where the table goes; errors are counted in the table.
process.env.RIVET_LOG_LEVEL ??= "error";

const HANDLER_POOL = "default";
const ENVOY_POOL = "bench-envoy";
/** The second `handler()` app server, on the wasm runtime (`FLEET_RUNTIME=wasm`). */
const WASM_POOL = "bench-wasm";
const RESULTS_DIR = path.join(PROJECT_ROOT, "bench-results");
const ENVOY_ENTRY = path.join(PROJECT_ROOT, "tools/bench/envoy-server.ts");

/** In order: the baseline first, lifecycle early (its "0 actors" memory reading needs a quiet engine). */
const SCENARIOS: Array<[string, Scenario]> = [
	["1 baseline", baseline],
	["7/8 create, memory, wake", lifecycle],
	["2 gateway", gateway],
	["3/4 rivetkit client and gateway, handler() and start() interleaved", clientAndStart],
	["5 chat fan-out", chatFanOut],
	["6 worker jobs", workerJobs],
	["6 coordinator fan-out", coordinatorFanOut],
	["6 Workflows peer (Miniflare): the same jobs, one instance and a batch over 16", workflowsPeer],
	["9 durable writes", durableWrites],
	["11 isolation: a counter while a 200-job batch computes", isolation],
	["12 cold start by phase, one at a time", coldStart],
	["10 Durable Object peer (Miniflare): HTTP, WebSocket, fan-out", durableObjectPeer],
];

/** The numbers a scenario label starts with: "7/8 create, memory, wake" is 7 and 8. */
function labelNumbers(label: string): number[] {
	return (label.split(" ")[0] ?? "").split("/").map(Number);
}

async function startEnvoyServer(stack: Stack): Promise<RunningAppServer> {
	return startAppServer({
		port: await freePort(),
		entry: ENVOY_ENTRY,
		logFile: path.join(stack.dataDir, "envoy-server.log"),
		env: {
			NODE_ENV: "development",
			RIVET_ENDPOINT: stack.engine.url,
			RIVET_POOL: ENVOY_POOL,
			RIVET_RUNNER_VERSION: "1",
			RIVETKIT_ENGINE_SPAWN: "never",
			RIVET_RUN_SERVICES: "0",
		},
	});
}

/** Where `startServerForPool` (tools/local/stack.ts) writes a server's log. */
function serverLog(stack: Stack, pool: string, server: RunningAppServer): string {
	return path.join(stack.dataDir, `server-${pool}-${new URL(server.url).port}.log`);
}

/** The full run's largest memory step, in counters (the issue's 0/100/1,000). */
const DEFAULT_MAX_ACTORS = 1_000;

/** What a signal must take down: the stack (its engine and temporary data dir) and the second server. */
let running: { stack: Stack; envoy?: RunningAppServer; wasm?: RunningAppServer } | undefined;

// Before anything starts: Ctrl-C, or SIGTERM from `timeout`, at any moment
// kills the servers (no drain, as at the end of a run), stops the engine and
// deletes the run's data dir; the lifecycle module stops anything still
// starting (tools/local/lifecycle.ts).
exitOnSignals({
	log,
	beforeStop: async () => {
		if (!running) return;
		await Promise.all([running.envoy?.kill(), running.wasm?.kill(), running.stack.server.kill()]);
		await running.stack.stop();
	},
});

async function main(): Promise<void> {
	const quick = process.argv.includes("--quick");
	// `--only 1,4`: run just the scenario groups whose labels carry those
	// numbers (the `#` of docs/performance.md), e.g. while tuning one.
	const onlyArg = process.argv[process.argv.indexOf("--only") + 1];
	const only = process.argv.includes("--only") && onlyArg ? onlyArg.split(",").map(Number) : [];
	const unknown = only.filter((n) => !SCENARIOS.some(([label]) => labelNumbers(label).includes(n)));
	if (unknown.length > 0) {
		throw new Error(`--only ${onlyArg}: no scenario is numbered ${unknown.join(", ")} (see docs/performance.md)`);
	}
	// `--actors 300`: the full run's largest memory step (default 1,000); creation runs at about 1-3/s on 2 cores.
	const actorsArg = Number(process.argv[process.argv.indexOf("--actors") + 1]);
	const maxActors = process.argv.includes("--actors") ? actorsArg : DEFAULT_MAX_ACTORS;
	// `--native-only`: no wasm app server, no `[wasm]` rows (e.g. to compare with runs before it existed).
	const withWasm = !process.argv.includes("--native-only");
	if (!Number.isInteger(maxActors) || maxActors < 100) throw new Error("--actors takes a whole number of at least 100");
	const startedAt = new Date();
	const loadBefore = os.loadavg();
	log(`bench (${quick ? "quick" : "full"}): load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
	log(
		`starting engine, app server (handler, native)${withWasm ? ", app server (handler, wasm)" : ""} and registry.start() process…`,
	);
	// The servers log when the engine's `/start` reaches them (cold-start phases; start-timings.ts).
	const stack = await startStack({
		pool: HANDLER_POOL,
		serverEnv: { RIVET_LOG_LEVEL: "error", FLEET_RUNTIME: "native", NODE_OPTIONS: START_TIMINGS_NODE_OPTIONS },
	});
	running = { stack };
	let envoy: RunningAppServer | undefined;
	let wasm: RunningAppServer | undefined;
	let wasmExit: string | null = null;
	const clients: Array<{ dispose(): Promise<void> }> = [];
	try {
		envoy = await startEnvoyServer(stack);
		running.envoy = envoy;
		if (withWasm) {
			wasm = await stack.addServer({
				pool: WASM_POOL,
				env: { FLEET_RUNTIME: "wasm", RIVET_LOG_LEVEL: "error", NODE_OPTIONS: START_TIMINGS_NODE_OPTIONS },
			});
			running.wasm = wasm;
			// A crash of the wasm server is a result: every later [wasm] row fails, and the summary says why.
			void wasm.exited.then((code) => {
				if (running?.wasm === wasm) wasmExit = `the wasm app server exited (code ${code}) during the run`;
			});
		}
		log("started");
		const handlerClient = createClient<Registry>({ endpoint: stack.engine.url });
		const envoyClient = createClient<Registry>({ endpoint: stack.engine.url, poolName: ENVOY_POOL });
		const wasmClient = createClient<Registry>({ endpoint: stack.engine.url, poolName: WASM_POOL });
		clients.push(handlerClient, envoyClient, wasmClient);
		const handlerPids = { engine: stack.engine.pid, node: stack.server.pid };
		const ctx: BenchContext = {
			quick,
			maxActors,
			engineUrl: stack.engine.url,
			appUrl: stack.server.url,
			handlerPids,
			envoyPids: { engine: stack.engine.pid, node: envoy.pid },
			client: handlerClient,
			envoyClient,
			handlerPool: HANDLER_POOL,
			envoyPool: ENVOY_POOL,
			auth: await benchCredentials(),
			runtimes: [
				{
					runtime: "native",
					client: handlerClient,
					pool: HANDLER_POOL,
					pids: handlerPids,
					appUrl: stack.server.url,
					logFile: serverLog(stack, HANDLER_POOL, stack.server),
				},
				...(wasm
					? [
							{
								runtime: "wasm" as const,
								client: wasmClient,
								pool: WASM_POOL,
								pids: { engine: stack.engine.pid, node: wasm.pid },
								appUrl: wasm.url,
								logFile: serverLog(stack, WASM_POOL, wasm),
							},
						]
					: []),
			],
			runId: `bench-${randomUUID().slice(0, 8)}`,
			results: [],
		};
		for (const [i, [label, scenario]] of SCENARIOS.entries()) {
			if (only.length > 0 && !labelNumbers(label).some((n) => only.includes(n))) continue;
			const t = Date.now();
			log(`[${i + 1}/${SCENARIOS.length}] ${label}`);
			const before = ctx.results.length;
			await scenario(ctx);
			for (const r of ctx.results.slice(before)) {
				const ops = r.opsPerS === null ? "" : `${r.opsPerS.toFixed(1)} ops/s, `;
				const p50 = r.p50Ms === null ? "" : `p50 ${r.p50Ms.toFixed(2)} ms, `;
				log(`  ✓ ${r.scenario}: ${ops}${p50}${r.errors} errors`);
			}
			log(`  (${((Date.now() - t) / 1_000).toFixed(1)} s)`);
		}
		applyRatios(ctx.results);
		const vsPeer = applyPeerRatios(ctx.results);
		const info: RunInfo = {
			mode: quick ? "quick" : "full",
			startedAt: startedAt.toISOString(),
			durationS: (Date.now() - startedAt.getTime()) / 1_000,
			machine: machineInfo(),
			loadBefore,
			loadAfter: os.loadavg(),
			engineTuning: engineTuning(),
			engineCpus: stack.engine.cpus,
			handlerVsStart: compareHandlerToStart(ctx.results),
			wasmVsNative: compareRuntimes(ctx.results),
			wasmServerExit: wasmExit,
			coldStartPhases: phaseRows,
			vsPeer,
		};
		const file = writeJson(RESULTS_DIR, info, ctx.results);
		const m = info.machine;
		console.log(
			`### actor-fleet bench (${info.mode}), ${info.startedAt}\n\n${m.cpus}× ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, node ${m.node}; ${info.engineCpus === "all" ? "engine on all CPUs" : `engine pinned to CPU ${info.engineCpus}`}; load average ${loadBefore[0]?.toFixed(2)} before, ${info.loadAfter[0]?.toFixed(2)} after; ${info.durationS.toFixed(0)} s\n`,
		);
		console.log(markdownTable(ctx.results));
		console.log(`\nregistry.handler() vs registry.start(), same run:\n${handlerVsStartLines(info.handlerVsStart)}`);
		if (info.wasmVsNative?.length) {
			console.log(
				`\nwasm runtime vs native runtime (both behind handler()), same run:\n${runtimeLines(info.wasmVsNative)}`,
			);
		}
		if (wasmExit) console.log(`\n**${wasmExit}**`);
		if (phaseRows.length > 0) {
			console.log(
				`\ncold start by phase: median ms after the client sent PUT /actors, one creation at a time\n${phaseTable(phaseRows)}`,
			);
		}
		if (vsPeer.length > 0)
			console.log(`\nthis fleet vs the peers (Durable Objects, Workflows), same run:\n${peerLines(vsPeer)}`);
		log(`\nwrote ${path.relative(PROJECT_ROOT, file)}`);
		const fiveXx = ctx.results.filter((r) => r.errors > 0);
		if (fiveXx.length > 0) log(`scenarios with errors: ${fiveXx.map((r) => r.scenario).join("; ")}`);
	} finally {
		log("stopping the clients…");
		await Promise.all(clients.map((c) => c.dispose()));
		// Killed, not drained: the bench's data dir is thrown away, and a
		// graceful drain of everything the scenarios woke took 20 s.
		log("stopping the servers and the engine…");
		if (running) running.wasm = undefined;
		await Promise.all([envoy?.kill(), wasm?.kill(), stack.server.kill()]);
		await stack.stop();
		running = undefined;
		log("stopped");
	}
}

await main();
