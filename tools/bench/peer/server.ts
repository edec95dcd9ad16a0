// The peers' host process: Miniflare running `worker.ts` (the Durable
// Objects) and `jobs-workflow.ts` (the Workflows peer) in workerd on a
// loopback port, with SQLite-backed Durable Object and Workflows storage in a
// folder the parent chooses. Started by `startPeer()` (peer.ts) as a child
// process, so the bench can charge workerd's CPU to the peer rows and never
// its own. It prints one JSON line on stdout once listening,
// `{ "url", "workerdPid" }`, and disposes Miniflare (which stops workerd) on
// SIGTERM, on SIGINT, and when its stdin closes: the parent holds the other
// end, so even a parent killed with SIGKILL takes the peer down with it.

import { readdirSync, readFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

/**
 * The Workers compatibility date the peer runs with: the release date of the
 * `workerd` that `miniflare` pins, so the newest behaviour it knows is on.
 */
const COMPATIBILITY_DATE = "2026-07-30";

const storageDir = process.env.PEER_STORAGE_DIR;
if (!storageDir) throw new Error("PEER_STORAGE_DIR must name the folder for Durable Object storage");

/**
 * The Workflows peer's step limit per instance: above what one instance of
 * the bench's largest row records (about 5 steps per job, waits included).
 */
const WORKFLOW_STEP_LIMIT = 10_000;

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/**
 * The modules workerd loads, entry first, named by their path in the repo so
 * their relative imports resolve as they do in Node. The last one is the
 * fleet's own job code: the Workflows peer computes exactly what the worker does.
 */
const MODULES = ["tools/bench/peer/worker.ts", "tools/bench/peer/jobs-workflow.ts", "src/actors/jobs/compute.ts"];

const mf = new Miniflare({
	modulesRoot: PROJECT_ROOT,
	// workerd runs JavaScript: these files are TypeScript with erasable syntax only, so stripping suffices.
	modules: MODULES.map((file) => ({
		type: "ESModule" as const,
		path: path.join(PROJECT_ROOT, file),
		contents: stripTypeScriptTypes(readFileSync(path.join(PROJECT_ROOT, file), "utf8")),
	})),
	compatibilityDate: COMPATIBILITY_DATE,
	// The job code hashes with `node:crypto` and `Buffer`, as on the server.
	compatibilityFlags: ["nodejs_compat"],
	host: "127.0.0.1",
	port: 0,
	// `useSQLite` is Miniflare's form of a `new_sqlite_classes` migration:
	// both classes get SQLite-backed storage, the kind Cloudflare recommends
	// for new Durable Objects and the only kind with the SQL API.
	durableObjects: {
		COUNTER: { className: "Counter", useSQLite: true },
		ROOM: { className: "Room", useSQLite: true },
		RESULTS: { className: "JobResults", useSQLite: true },
	},
	durableObjectsPersist: storageDir,
	// Cloudflare Workflows, run by Miniflare's own Workflows engine (Durable
	// Objects inside the same workerd), its storage beside the objects'.
	workflows: { JOBS: { name: "jobs", className: "JobWorkflow", stepLimit: WORKFLOW_STEP_LIMIT } },
	workflowsPersist: path.join(storageDir, "workflows"),
});

let disposing: Promise<void> | undefined;
function dispose(): Promise<void> {
	disposing ??= mf.dispose().finally(() => process.exit(0));
	return disposing;
}
process.once("SIGTERM", () => void dispose());
process.once("SIGINT", () => void dispose());
process.stdin.on("end", () => void dispose());
process.stdin.resume();

/** The pid of the `workerd` Miniflare spawned: a child of this process. */
function workerdPid(): number {
	for (const task of readdirSync(`/proc/${process.pid}/task`)) {
		const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
		for (const pid of children ? children.split(" ").map(Number) : []) {
			if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd") return pid;
		}
	}
	throw new Error("Miniflare is ready but no workerd child process was found");
}

const url = await mf.ready;
process.stdout.write(`${JSON.stringify({ url: url.origin, workerdPid: workerdPid() })}\n`);
