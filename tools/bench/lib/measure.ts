// What every scenario records: throughput, latency percentiles, errors and
// the CPU seconds the engine and the node process spent meanwhile (read from
// `/proc/<pid>/stat` before and after), plus the progress line on stderr.

import { readFileSync } from "node:fs";
import { RetriesExhaustedError } from "../../client/retry.ts";

/** Linux reports utime/stime in clock ticks; 100 per second on every common kernel config. */
const CLOCK_TICKS_PER_S = 100;
/** How often the progress line is refreshed while a scenario runs. */
const PROGRESS_INTERVAL_MS = 2_000;

export interface ScenarioResult {
	scenario: string;
	/** Which baseline the ratio is taken against. */
	baseline: "parallel" | "sequential" | null;
	opsPerS: number | null;
	p50Ms: number | null;
	/** Filled by the HTTP and client load generators; rows measured otherwise leave it out. */
	p90Ms?: number | null;
	p99Ms: number | null;
	errors: number;
	engineCpuS: number;
	nodeCpuS: number;
	ratio: number | null;
	/** ops/s divided by the matching Durable Object peer row's, same run (tools/bench/peer/compare.ts). */
	peerRatio?: number | null;
	notes: string;
}

/** The processes whose CPU a scenario is charged with. */
export interface Pids {
	engine: number;
	node: number;
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	// The command name (field 2) may hold spaces; fields after it are fixed.
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	// utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
	return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** Resident set size of a process, in MiB. */
export function rssMiB(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
	return kb / 1024;
}

export function percentile(sorted: number[], p: number): number | null {
	if (sorted.length === 0) return null;
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
	return sorted[index] ?? null;
}

/** Latencies (ms) and error count a client-driven scenario collects. */
export class Samples {
	readonly latencies: number[] = [];
	errors = 0;
	readonly errorKinds = new Map<string, number>();

	ok(ms: number): void {
		this.latencies.push(ms);
	}

	fail(error: unknown): void {
		this.errors++;
		const kind = describeError(error);
		this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
	}

	summary(elapsedMs: number): Pick<ScenarioResult, "opsPerS" | "p50Ms" | "p90Ms" | "p99Ms" | "errors"> {
		const sorted = [...this.latencies].sort((a, b) => a - b);
		return {
			opsPerS: elapsedMs > 0 ? (this.latencies.length / elapsedMs) * 1_000 : null,
			p50Ms: percentile(sorted, 0.5),
			p90Ms: percentile(sorted, 0.9),
			p99Ms: percentile(sorted, 0.99),
			errors: this.errors,
		};
	}

	/** Adds another run's latencies and errors to this one. */
	absorb(other: Samples): void {
		for (const ms of other.latencies) this.latencies.push(ms);
		this.errors += other.errors;
		for (const [kind, n] of other.errorKinds) this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + n);
	}

	errorNote(): string {
		return [...this.errorKinds].map(([kind, n]) => `${n}× ${kind}`).join(", ");
	}
}

/**
 * One short line per kind of error, so the notes can count them: an engine
 * error by its code, a retried call that gave up by what its last attempt met.
 */
export function describeError(error: unknown): string {
	if (error instanceof RetriesExhaustedError) return `gave up after retries: ${describeError(error.cause)}`;
	if (error && typeof error === "object") {
		const e = error as { group?: unknown; code?: unknown; message?: unknown };
		if (typeof e.group === "string" && typeof e.code === "string") return `${e.group}.${e.code}`;
		if (typeof e.message === "string") return e.message.split("\n", 1)[0]?.slice(0, 120) ?? "error";
	}
	return String(error).slice(0, 120);
}

/**
 * Runs `body` with CPU accounting and a progress line. `body` returns the
 * measured part of the result; CPU covers the whole body, warm-up excluded
 * (the caller warms up before).
 */
export async function measure(
	label: string,
	pids: Pids,
	body: (progress: (text: string) => void) => Promise<Omit<ScenarioResult, "engineCpuS" | "nodeCpuS" | "ratio">>,
): Promise<ScenarioResult> {
	const started = Date.now();
	let status = "";
	const tick = setInterval(() => {
		process.stderr.write(`  … ${label}: ${((Date.now() - started) / 1_000).toFixed(0)} s ${status}\n`);
	}, PROGRESS_INTERVAL_MS);
	const engineBefore = cpuSeconds(pids.engine);
	const nodeBefore = cpuSeconds(pids.node);
	try {
		const result = await body((text) => {
			status = text;
		});
		return {
			...result,
			engineCpuS: cpuSeconds(pids.engine) - engineBefore,
			nodeCpuS: cpuSeconds(pids.node) - nodeBefore,
			ratio: null,
		};
	} finally {
		clearInterval(tick);
	}
}

/**
 * Runs `op` from `concurrency` loops until `durationMs` passes (or `count`
 * operations started), recording each latency.
 */
export async function closedLoop(options: {
	concurrency: number;
	durationMs?: number;
	count?: number;
	/** `lane` is which of the `concurrency` loops runs the call (0-based). */
	op: (index: number, lane: number) => Promise<unknown>;
	onProgress?: (text: string) => void;
}): Promise<{ samples: Samples; elapsedMs: number }> {
	const samples = new Samples();
	const started = performance.now();
	const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
	const limit = options.count ?? Number.POSITIVE_INFINITY;
	let next = 0;
	const runLane = async (lane: number) => {
		while (next < limit && performance.now() < deadline) {
			const index = next++;
			const t = performance.now();
			try {
				await options.op(index, lane);
				samples.ok(performance.now() - t);
			} catch (error) {
				samples.fail(error);
			}
			options.onProgress?.(`${samples.latencies.length} ok, ${samples.errors} errors`);
		}
	};
	await Promise.all(Array.from({ length: options.concurrency }, (_, lane) => runLane(lane)));
	return { samples, elapsedMs: performance.now() - started };
}

/**
 * Waits for `work` at most `ms`; true if it settled in time. The timer is
 * cleared either way: a pending timer keeps node alive, and a forgotten
 * 5-minute one made the bench sit idle for minutes after printing its table.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<false>((resolve) => {
		timer = setTimeout(() => resolve(false), ms);
	});
	try {
		return await Promise.race([work.then(() => true), late]);
	} finally {
		clearTimeout(timer);
	}
}

const BENCH_STARTED = performance.now();

/** A progress line on stderr, stamped with the time since the bench started. */
export function log(line: string): void {
	const s = Math.floor((performance.now() - BENCH_STARTED) / 1_000);
	const stamp = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
	process.stderr.write(`[${stamp}] ${line}\n`);
}
