// The run's output: ratios to the same run's baselines, one Markdown table on
// stdout and a JSON file under `bench-results/` (ignored by git).

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { wasmTwin } from "./context.ts";
import type { ScenarioResult } from "./measure.ts";

export interface RunInfo {
	mode: "quick" | "full";
	startedAt: string;
	durationS: number;
	machine: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string; node: string };
	/** `os.loadavg()` before and after: other processes' load skews absolute numbers. */
	loadBefore: number[];
	loadAfter: number[];
	engineTuning: Record<string, string>;
	/** The CPUs the engine ran on (`taskset` list), or "all" (see `FLEET_ENGINE_CPUS`). */
	engineCpus: string;
	/** `registry.handler()` vs `registry.start()`, same calls, same run. */
	handlerVsStart: Array<{ calls: string; throughputRatio: number | null; p50DeltaMs: number | null }>;
	/** Each row on the wasm runtime vs the same row on the native one, same run (`wasm ÷ native`). */
	wasmVsNative?: RuntimePair[];
	/** Cold start by phase (tools/bench/scenarios/cold-start.ts). */
	coldStartPhases?: unknown[];
	/** Set when the wasm app server exited before the run ended (its later rows then fail). */
	wasmServerExit?: string | null;
	/** Our rows vs the Durable Object peer's (tools/bench/peer/compare.ts), same run. */
	vsPeer?: Array<{
		ours: string;
		peer: string;
		throughputRatio: number | null;
		p50Ratio: number | null;
		p90Ratio: number | null;
	}>;
}

export interface RuntimePair {
	native: string;
	wasm: string;
	/** ops/s wasm ÷ native: above 1, wasm does more per second. */
	throughputRatio: number | null;
	/** p50 wasm ÷ native: below 1, wasm answers sooner. */
	p50Ratio: number | null;
	errors: { native: number; wasm: number };
}

/** Pairs every row that ran on both runtimes. */
export function compareRuntimes(results: ScenarioResult[]): RuntimePair[] {
	const pairs: RuntimePair[] = [];
	for (const native of results) {
		const twin = wasmTwin(native.scenario);
		const wasm = twin === null ? undefined : results.find((r) => r.scenario === twin);
		// Memory rows carry their readings in the notes; they are compared there.
		if (!wasm || (native.opsPerS === null && native.p50Ms === null)) continue;
		pairs.push({
			native: native.scenario,
			wasm: wasm.scenario,
			throughputRatio: native.opsPerS && wasm.opsPerS !== null ? wasm.opsPerS / native.opsPerS : null,
			p50Ratio: native.p50Ms && wasm.p50Ms !== null ? wasm.p50Ms / native.p50Ms : null,
			errors: { native: native.errors, wasm: wasm.errors },
		});
	}
	return pairs;
}

/** One line per row run on both runtimes. */
export function runtimeLines(pairs: RuntimePair[]): string {
	const x = (r: number | null) => (r === null ? "?" : `${r.toFixed(2)}×`);
	return pairs
		.map(
			(p) =>
				`- ${p.native}: wasm throughput ${x(p.throughputRatio)} native's, p50 ${x(p.p50Ratio)}${p.errors.native + p.errors.wasm > 0 ? ` (errors: native ${p.errors.native}, wasm ${p.errors.wasm})` : ""}`,
		)
		.join("\n");
}

export function machineInfo(): RunInfo["machine"] {
	return {
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model ?? "unknown",
		memoryGiB: Math.round(os.totalmem() / 2 ** 30),
		kernel: os.release(),
		node: process.version,
	};
}

/** Fills `ratio`: ops/s divided by the baseline of the same kind (parallel or sequential). */
export function applyRatios(results: ScenarioResult[]): void {
	const base = (kind: "parallel" | "sequential") =>
		results.find((r) => r.scenario.startsWith("baseline") && r.baseline === kind)?.opsPerS ?? null;
	for (const r of results) {
		const b = r.baseline === null ? null : base(r.baseline);
		r.ratio = b && r.opsPerS !== null ? r.opsPerS / b : null;
	}
}

/** Pairs `client (handler): …` rows with `client (start): …` rows. */
export function compareHandlerToStart(results: ScenarioResult[]): RunInfo["handlerVsStart"] {
	const pairs: RunInfo["handlerVsStart"] = [];
	for (const start of results.filter((r) => r.scenario.includes("(start)"))) {
		const h = results.find((r) => r.scenario === start.scenario.replace("(start)", "(handler)"));
		if (!h) continue;
		pairs.push({
			calls: start.scenario.replace("(start)", "").replace(/\s+/g, " "),
			throughputRatio: h.opsPerS !== null && start.opsPerS ? h.opsPerS / start.opsPerS : null,
			p50DeltaMs: h.p50Ms !== null && start.p50Ms !== null ? h.p50Ms - start.p50Ms : null,
		});
	}
	return pairs;
}

const fmt = (n: number | null, digits = 1) => (n === null ? "" : n.toFixed(digits));

function fmtRatio(r: number | null): string {
	if (r === null) return "";
	return r >= 0.1 ? `${r.toFixed(2)}×` : `1/${(1 / r).toFixed(0)}`;
}

export function markdownTable(results: ScenarioResult[]): string {
	const lines = [
		"| scenario | ops/s | p50 ms | p90 ms | p99 ms | errors | engine CPU s | node CPU s | vs baseline | vs peer | notes |",
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
	];
	for (const r of results) {
		lines.push(
			`| ${r.scenario} | ${fmt(r.opsPerS, r.opsPerS !== null && r.opsPerS < 100 ? 1 : 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p90Ms ?? null, 2)} | ${fmt(r.p99Ms, 2)} | ${r.errors} | ${fmt(r.engineCpuS, 2)} | ${fmt(r.nodeCpuS, 2)} | ${fmtRatio(r.ratio)} | ${fmtRatio(r.peerRatio ?? null)} | ${r.notes} |`,
		);
	}
	return lines.join("\n");
}

/** One line per call pattern: `handler()` throughput as a share of `start()`'s, and the p50 difference. */
export function handlerVsStartLines(pairs: RunInfo["handlerVsStart"]): string {
	return pairs
		.map(
			(p) =>
				`- ${p.calls}: handler() throughput ${fmtRatio(p.throughputRatio)} of start(), p50 ${p.p50DeltaMs === null ? "?" : `${p.p50DeltaMs >= 0 ? "+" : ""}${p.p50DeltaMs.toFixed(2)} ms`}`,
		)
		.join("\n");
}

export function writeJson(dir: string, info: RunInfo, results: ScenarioResult[]): string {
	mkdirSync(dir, { recursive: true });
	const file = path.join(dir, `bench-${info.mode}-${info.startedAt.replace(/[:.]/g, "-")}.json`);
	writeFileSync(file, `${JSON.stringify({ ...info, results }, null, 2)}\n`);
	writeFileSync(path.join(dir, `latest-${info.mode}.json`), `${JSON.stringify({ ...info, results }, null, 2)}\n`);
	return file;
}
