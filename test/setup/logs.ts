// A stack's logs go with its data dir; with `FAULT_LOGS_DIR` set they are
// copied there first, so a failure seen only under load leaves a trace.

import { cpSync, existsSync, readdirSync } from "node:fs";
import path from "node:path";

/** The app server logs and the engine log of a stack's data dir. */
export function logFiles(dataDir: string): string[] {
	if (!existsSync(dataDir)) return [];
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

/** Copies all of the stack's logs to `<FAULT_LOGS_DIR>/<label>/` when that is set. */
export function keepLogs(dataDir: string, label: string): void {
	const keepDir = process.env.FAULT_LOGS_DIR;
	if (!keepDir || !existsSync(dataDir)) return;
	const target = path.join(keepDir, label);
	for (const file of logFiles(dataDir)) cpSync(file, path.join(target, path.basename(file)));
	console.log(`\n${label}: logs copied to ${target}`);
}
