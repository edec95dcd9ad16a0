// `npm run bench:loopback`: where the sequential round-trip floor comes from.
//
// A sequential action through the engine takes about 50 ms on Linux loopback
// while two in flight take a few ms each. The README ("The 5 ms round-trip
// target") traces it to Nagle's algorithm on rivetkit's envoy socket, which
// holds the second half of each reply until the engine's kernel acknowledges
// the first half, and Linux delays that acknowledgement by up to 40 ms.
// Neither rivetkit nor the engine exposes a setting for it. Linux does, per
// route: `quickack 1` makes the kernel acknowledge at once. This script
// proves the diagnosis by measuring the same probe (tools/bench/loopback-probe.ts)
// in two private network namespaces, one with the default loopback route and
// one with `quickack 1`, alternating rounds so both see the same machine.
//
// It needs root (or CAP_NET_ADMIN) and iproute2, and changes nothing outside
// its own namespaces, which it deletes when it ends.

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { PROJECT_ROOT } from "../local/app-server.ts";
import { log, percentile } from "./lib/measure.ts";
import type { ProbeResult } from "./loopback-probe.ts";

const PROBE = path.join(PROJECT_ROOT, "tools/bench/loopback-probe.ts");
/** Alternating rounds per namespace; the median of the rounds' p50s is reported. */
const ROUNDS = process.argv.includes("--quick") ? 1 : 3;
/** Loopback routes in the `local` table: the /8 and the more specific 127.0.0.1. */
const LOCAL_ROUTES = ["127.0.0.0/8", "127.0.0.1"];

type Road = keyof ProbeResult;
const ROADS: Array<[Road, string]> = [
	["connect", "rivetkit client, `.connect()` (WebSocket)"],
	["stateless", "rivetkit client, stateless (HTTP per call)"],
	["gateway", "`POST /gateway/{id}/action/increment` (fetch)"],
];

function ip(...args: string[]): void {
	execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function preflight(): void {
	if (process.platform !== "linux") fail("needs Linux: `quickack` is a Linux route attribute");
	if (process.getuid?.() !== 0) fail("needs root (it creates network namespaces); run it with sudo");
	try {
		execFileSync("ip", ["-V"], { stdio: "ignore" });
	} catch {
		fail("needs the `ip` command (Debian package iproute2)");
	}
}

function fail(reason: string): never {
	console.error(`bench:loopback ${reason}`);
	process.exit(1);
}

function createNamespace(name: string, quickack: boolean): void {
	ip("netns", "add", name);
	ip("-n", name, "link", "set", "lo", "up");
	if (!quickack) return;
	for (const route of LOCAL_ROUTES) {
		// The same route the kernel made when lo came up, plus the one attribute.
		ip(
			...["-n", name, "route", "change", "local", route, "dev", "lo", "table", "local"],
			...["proto", "kernel", "scope", "host", "src", "127.0.0.1", "quickack", "1"],
		);
	}
}

function probe(namespace: string): Promise<ProbeResult> {
	return new Promise((resolve, reject) => {
		const child = spawn("ip", ["netns", "exec", namespace, process.execPath, PROBE], {
			cwd: PROJECT_ROOT,
			stdio: ["ignore", "pipe", "inherit"],
		});
		let out = "";
		child.stdout.on("data", (chunk: Buffer) => {
			out += chunk.toString();
		});
		child.on("error", reject);
		child.on("exit", (code) => {
			const line = out.trim().split("\n").at(-1) ?? "";
			if (code !== 0 || !line.startsWith("{")) {
				reject(new Error(`probe in ${namespace} exited ${code}: ${out.slice(-500)}`));
				return;
			}
			resolve(JSON.parse(line) as ProbeResult);
		});
	});
}

function median(values: number[]): number {
	return (
		percentile(
			[...values].sort((a, b) => a - b),
			0.5,
		) ?? Number.NaN
	);
}

async function main(): Promise<void> {
	preflight();
	const id = randomUUID().slice(0, 8);
	const spaces = { default: `fleet-lo-${id}-default`, quickack: `fleet-lo-${id}-quickack` };
	const results: Record<keyof typeof spaces, ProbeResult[]> = { default: [], quickack: [] };
	try {
		createNamespace(spaces.default, false);
		createNamespace(spaces.quickack, true);
		for (let round = 1; round <= ROUNDS; round++) {
			// Alternate which side goes first, so neither always runs on a warmer machine.
			const order = round % 2 === 1 ? (["default", "quickack"] as const) : (["quickack", "default"] as const);
			for (const side of order) {
				log(`round ${round}/${ROUNDS}: ${side} loopback route…`);
				const r = await probe(spaces[side]);
				results[side].push(r);
				log(
					`  .connect() p50 ${r.connect.p50.toFixed(2)} ms, stateless ${r.stateless.p50.toFixed(2)} ms, gateway ${r.gateway.p50.toFixed(2)} ms`,
				);
			}
		}
	} finally {
		for (const name of Object.values(spaces)) {
			try {
				ip("netns", "delete", name);
			} catch {
				// Not created (an earlier step failed); nothing to delete.
			}
		}
	}
	console.log(
		`### Sequential round trip on loopback: default route vs \`quickack 1\` (${ROUNDS} round(s), p50 of each, median)\n`,
	);
	console.log("| road | default p50 ms | quickack p50 ms | default p99 ms | quickack p99 ms | speed-up |");
	console.log("|---|---:|---:|---:|---:|---:|");
	for (const [road, label] of ROADS) {
		const d = median(results.default.map((r) => r[road].p50));
		const q = median(results.quickack.map((r) => r[road].p50));
		const d99 = median(results.default.map((r) => r[road].p99));
		const q99 = median(results.quickack.map((r) => r[road].p99));
		console.log(
			`| ${label} | ${d.toFixed(2)} | ${q.toFixed(2)} | ${d99.toFixed(2)} | ${q99.toFixed(2)} | ${(d / q).toFixed(1)}× |`,
		);
	}
}

await main();
