// `npm run clean:data`: wipes the local engine's data (every actor's state,
// KV, SQLite, queues and schedules). Refuses while the engine is running.

import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "./local/app-server.ts";

const dataDir = path.join(PROJECT_ROOT, ".data");
const pidFile = path.join(dataDir, "engine", "engine.pid");

if (existsSync(pidFile)) {
	const pid = Number(readFileSync(pidFile, "utf8").trim());
	let alive = false;
	try {
		process.kill(pid, 0);
		alive = true;
	} catch {}
	if (alive) {
		console.error(`the local engine is running (pid ${pid}); stop \`npm start\` first`);
		process.exit(1);
	}
}
rmSync(dataDir, { recursive: true, force: true });
console.log("removed .data/ (local engine data)");
