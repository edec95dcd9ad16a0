// A crash stack's logs when it stops: kept like every stack's
// (test/setup/logs.ts), and its app servers' error lines printed when a test
// failed. Imports nothing from vitest: the fault suite's global setup uses it.

import { readFileSync } from "node:fs";
import path from "node:path";
import { keepLogs, logFiles } from "../setup/logs.ts";

/** Error lines printed per stack; the rest are in the copied logs. */
const MAX_PRINTED_ERRORS = 20;
/** Characters printed per error line (stack backtraces make them long). */
const MAX_LINE_CHARS = 600;

/**
 * Keeps the stack's logs (`keepLogs`), then prints the app servers'
 * `level=error` lines if `printErrors` (crash tests log errors by design;
 * they print only when a test failed).
 */
export function reportLogs(dataDir: string, label: string, printErrors: boolean): void {
	keepLogs(dataDir, label);
	if (!printErrors) return;
	const errors = logFiles(dataDir)
		.filter((file) => path.basename(file).startsWith("server-"))
		.flatMap((file) => readFileSync(file, "utf8").split("\n"))
		.filter((line) => line.includes("level=error"));
	if (errors.length === 0) return;
	console.log(`\n${label}: the app server logged ${errors.length} error line(s); the first ${MAX_PRINTED_ERRORS}:`);
	for (const line of errors.slice(0, MAX_PRINTED_ERRORS)) console.log(`  ${line.slice(0, MAX_LINE_CHARS)}`);
}
