// What a test stack leaves behind when it stops. Each stack's logs live in its
// data dir, which is deleted with it; a failure seen only under load would
// otherwise leave no trace. Error lines are printed, and with `FAULT_LOGS_DIR`
// set every log is copied there first (the main suite's and the fault
// suite's stacks alike).

import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Error lines printed per stack; the rest are in the copied logs. */
const MAX_PRINTED_ERRORS = 20;
/** Characters printed per error line (stack backtraces make them long). */
const MAX_LINE_CHARS = 600;

/** The app server logs and the engine log of a stack's data dir. */
function logFiles(dataDir: string): string[] {
	const files = readdirSync(dataDir)
		.filter((file) => file.startsWith("server-") && file.endsWith(".log"))
		.map((file) => path.join(dataDir, file));
	const engine = path.join(dataDir, "engine", "engine.log");
	if (existsSync(engine)) files.push(engine);
	// example-actors:start (the README's removal block deletes these lines)
	// The worker's step ledger, which its crash tests write.
	const ledger = path.join(dataDir, "ledger.log");
	if (existsSync(ledger)) files.push(ledger);
	// example-actors:end
	return files;
}

/**
 * Copies all of the stack's logs to `<FAULT_LOGS_DIR>/<label>/` when that is
 * set, then prints the app servers' `level=error` lines if `printErrors`
 * (crash tests log errors by design; they print only when a test failed).
 */
export function reportLogs(dataDir: string, label: string, printErrors: boolean): void {
	if (!existsSync(dataDir)) return;
	const files = logFiles(dataDir);
	const keepDir = process.env.FAULT_LOGS_DIR;
	if (keepDir) {
		const target = path.join(keepDir, label);
		for (const file of files) cpSync(file, path.join(target, path.basename(file)));
		console.log(`\n${label}: logs copied to ${target}`);
	}
	if (!printErrors) return;
	const errors = files
		.filter((file) => path.basename(file).startsWith("server-"))
		.flatMap((file) => readFileSync(file, "utf8").split("\n"))
		.filter((line) => line.includes("level=error"));
	if (errors.length === 0) return;
	console.log(`\n${label}: the app server logged ${errors.length} error line(s); the first ${MAX_PRINTED_ERRORS}:`);
	for (const line of errors.slice(0, MAX_PRINTED_ERRORS)) console.log(`  ${line.slice(0, MAX_LINE_CHARS)}`);
}
