// Finds processes left behind by a test run or benchmark: anything whose
// command line mentions the run's data dir (engines get `--config <dir>/…`).

import { readdirSync, readFileSync } from "node:fs";

export function processesMentioning(needle: string): Array<{ pid: number; cmdline: string }> {
	const found: Array<{ pid: number; cmdline: string }> = [];
	for (const entry of readdirSync("/proc")) {
		const pid = Number(entry);
		if (!Number.isInteger(pid) || pid === process.pid) continue;
		try {
			const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
			if (cmdline.includes(needle)) found.push({ pid, cmdline });
		} catch {
			// The process exited while we looked.
		}
	}
	return found;
}
