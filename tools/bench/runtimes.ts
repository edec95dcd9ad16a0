// `node tools/bench/runtimes.ts --wasm-parity green|failing --wasm-faults green|failing|not-run [--runs 3] [--mode quick]`:
// the default-runtime rule, applied to the last bench runs (bench-results/,
// each run interleaving the native and the wasm `handler()` servers row by
// row).
//
// The rule (docs/performance.md, "Which runtime is the default"):
// 1. Correct and durable first. wasm qualifies only if the wasm parity run
//    (the `wasm` project of vitest.config.ts) passed 3 times in a row (`--wasm-parity green`),
//    the whole fault suite (every kill -9 test) passed with FLEET_RUNTIME=wasm
//    (`--wasm-faults green`), and its app server never exited during a bench
//    run. A runtime that might lose an acknowledged write is never the
//    default, however fast.
// 2. Over at least 3 runs, every row measured on both runtimes gets the
//    median of its per-run throughput ratio, wasm ops/s ÷ native ops/s.
// 3. wasm becomes the default if it qualifies and the geometric mean of the
//    row medians is at least WASM_DEFAULT_MIN_GAIN (clearly more work per
//    second across all rows, not a win on a few); otherwise native stays, the
//    runtime rivetkit does not mark experimental.
// It prints the medians, row errors, the verdict and the rows the chosen
// default loses.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../local/app-server.ts";
import type { RuntimePair } from "./lib/report.ts";

/** The geometric-mean gain wasm needs over native to become the default. */
export const WASM_DEFAULT_MIN_GAIN = 1.1;
const MIN_RUNS = 3;

const { values } = parseArgs({
	options: {
		runs: { type: "string", default: String(MIN_RUNS) },
		mode: { type: "string", default: "quick" },
		"wasm-parity": { type: "string" },
		"wasm-faults": { type: "string", default: "not-run" },
	},
});
const parity = values["wasm-parity"];
if (parity !== "green" && parity !== "failing") {
	throw new Error("--wasm-parity green|failing: the last 3 runs of `npx vitest run --project wasm`");
}
const faults = values["wasm-faults"];
if (faults !== "green" && faults !== "failing" && faults !== "not-run") {
	throw new Error("--wasm-faults green|failing|not-run: `FLEET_RUNTIME=wasm npx vitest run --project faults`");
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < MIN_RUNS) throw new Error(`--runs takes a whole number of at least ${MIN_RUNS}`);

const dir = path.join(PROJECT_ROOT, "bench-results");
const files = readdirSync(dir)
	.filter((f) => f.startsWith(`bench-${values.mode}-`) && f.endsWith(".json"))
	.sort()
	.map((f) => path.join(dir, f))
	.filter((f) => {
		const run = JSON.parse(readFileSync(f, "utf8")) as { wasmVsNative?: RuntimePair[] };
		return (run.wasmVsNative?.length ?? 0) > 0;
	})
	.slice(-runs);
if (files.length < runs)
	throw new Error(`need ${runs} ${values.mode} runs with wasm rows in bench-results/, found ${files.length}`);

interface Run {
	startedAt: string;
	loadBefore: number[];
	wasmVsNative: RuntimePair[];
	wasmServerExit?: string | null;
}
const data = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Run);

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1
		? (sorted[mid] as number)
		: ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const rows = new Map<string, { throughput: number[]; p50: number[]; errors: { native: number; wasm: number } }>();
for (const run of data) {
	for (const pair of run.wasmVsNative) {
		const row = rows.get(pair.native) ?? { throughput: [], p50: [], errors: { native: 0, wasm: 0 } };
		if (pair.throughputRatio !== null) row.throughput.push(pair.throughputRatio);
		if (pair.p50Ratio !== null) row.p50.push(pair.p50Ratio);
		row.errors.native += pair.errors.native;
		row.errors.wasm += pair.errors.wasm;
		rows.set(pair.native, row);
	}
}

const medians = [...rows].map(([row, r]) => ({
	row,
	throughput: r.throughput.length > 0 ? median(r.throughput) : null,
	p50: r.p50.length > 0 ? median(r.p50) : null,
	errors: r.errors,
}));
const ratios = medians.map((m) => m.throughput).filter((t): t is number => t !== null && t > 0);
const geomean = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
const wasmErrors = medians.reduce((n, m) => n + m.errors.wasm, 0);
const nativeErrors = medians.reduce((n, m) => n + m.errors.native, 0);
const exits = data.filter((run) => run.wasmServerExit).length;
const wasmQualifies = parity === "green" && faults === "green" && exits === 0;
const chosen = wasmQualifies && geomean >= WASM_DEFAULT_MIN_GAIN ? "wasm" : "native";

const x = (r: number | null) => (r === null ? "" : `${r.toFixed(2)}×`);
console.log(
	`${data.length} ${values.mode} runs: ${data.map((r) => `${r.startedAt} (load ${r.loadBefore[0]?.toFixed(1)})`).join(", ")}\n`,
);
console.log("| row | wasm ÷ native ops/s (median) | wasm ÷ native p50 (median) | errors native / wasm |");
console.log("|---|---:|---:|---:|");
for (const m of medians)
	console.log(`| ${m.row} | ${x(m.throughput)} | ${x(m.p50)} | ${m.errors.native} / ${m.errors.wasm} |`);
console.log(
	`\ngeometric mean of the medians: ${geomean.toFixed(2)}× (wasm needs ${WASM_DEFAULT_MIN_GAIN}×); errors: native ${nativeErrors}, wasm ${wasmErrors}; wasm server exits: ${exits}`,
);
console.log(
	`wasm parity run: ${parity}; fault suite on wasm: ${faults}; wasm qualifies: ${wasmQualifies ? "yes" : "no"}; by throughput alone: ${geomean >= WASM_DEFAULT_MIN_GAIN ? "wasm" : "native"}`,
);
console.log(`default by the rule: ${chosen}`);
const loses = medians.filter((m) => m.throughput !== null && (chosen === "wasm" ? m.throughput < 1 : m.throughput > 1));
console.log(
	`\nrows the ${chosen} default loses (median ops/s ratio, ${chosen === "wasm" ? "wasm ÷ native" : "native ÷ wasm"}):`,
);
for (const m of loses) {
	const r = m.throughput as number;
	console.log(`- ${m.row}: ${(chosen === "wasm" ? r : 1 / r).toFixed(2)}×`);
}
