// `npm run cluster`: the multi-node deployment on this machine, with one
// command. PostgreSQL, NATS, two engine nodes, nginx in front of the engines
// and of two app servers, all on free loopback ports, all from the committed
// files in `deploy/cluster/` (see README, "Scaling out").
//
// Data lives in `.data/cluster/` and survives restarts (`npm run clean:data`
// wipes it). Ctrl-C (or SIGTERM, SIGHUP) at any moment stops whatever has
// started so far, newest first, so app servers drain their actors before the
// engines stop (tools/local/lifecycle.ts).
// If PostgreSQL, nats-server or nginx is missing it says what to install.

import path from "node:path";
import { PROJECT_ROOT } from "./local/app-server.ts";
import { ADMIN_TOKEN_FILE, type Cluster, NODE_NAMES, startCluster } from "./local/cluster.ts";
import { exitOnSignals, isShuttingDown, stopTracked } from "./local/lifecycle.ts";
import { MissingPrerequisiteError } from "./local/prerequisites.ts";

/** `FLEET_DATA_DIR` moves the data (the interruption tests use a temporary one), as for `npm start`. */
const DATA_DIR = path.join(path.resolve(process.env.FLEET_DATA_DIR || path.join(PROJECT_ROOT, ".data")), "cluster");

function describe(cluster: Cluster, lease: string): string {
	const rows = [
		["engine LB", cluster.engineUrl, "clients, app servers and the runner config use this"],
		...NODE_NAMES.map((n) => [`engine ${n}`, cluster.engines[n].url, `pid ${cluster.engines[n].pid}`]),
		["app LB", cluster.appUrl, `runner config: pool "${cluster.pool}" → ${cluster.appUrl}/api/rivet`],
		...NODE_NAMES.map((n) => [`app ${n}`, cluster.apps[n].url, `pid ${cluster.apps[n].pid}`]),
		["PostgreSQL", `127.0.0.1:${cluster.postgres.port}`, `pid ${cluster.postgres.pid}, lease held by ${lease}`],
		["NATS", cluster.nats.address, `pid ${cluster.nats.pid}`],
		["nginx", "(both LBs)", `pid ${cluster.nginx.pid}`],
	];
	const width = Math.max(...rows.map((r) => (r[1] ?? "").length));
	const lines = rows.map(
		([name, where, note]) => `  ${(name ?? "").padEnd(11)} ${(where ?? "").padEnd(width)}  ${note}`,
	);
	return `actor-fleet cluster is up (data and logs: ${path.relative(process.cwd(), cluster.dir) || "."}).
${lines.join("\n")}
${tryLines(cluster)}  kill -9 <an engine or app pid>   # and watch the calls keep working
Ctrl-C stops everything.
`;
}

// Before anything starts, so no phase is without them.
exitOnSignals();

/**
 * Shell lines the banner suggests: sign in on the app LB, create a counter
 * through the engine LB (its management API needs the cluster's admin
 * token), call it as that user. None once the example actors are removed.
 * `{app}`, `{engine}`, `{pool}` and `{adminTokenFile}` are filled in by `tryLines`.
 */
const TRY_LINES: string[] = [
	// example-actors:start (the README's removal block deletes these lines)
	`  SIGNIN=$(curl -s -X POST {app}/api/auth/sign-in -H 'content-type: application/json' -d '{"name":"you"}')`,
	`  TOKEN=$(echo "$SIGNIN" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')`,
	`  ME=$(echo "$SIGNIN" | node -pe 'JSON.parse(require("fs").readFileSync(0)).userId')`,
	`  ID=$(curl -s -X PUT '{engine}/actors?namespace=default' -H 'content-type: application/json' \\`,
	`    -H "authorization: Bearer $(cat {adminTokenFile})" \\`,
	`    -d '{"name":"counter","key":"'"$ME"'","runner_name_selector":"{pool}","crash_policy":"sleep"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).actor.actor_id')`,
	`  curl -s -X POST {engine}/gateway/$ID/action/increment -H 'content-type: application/json' \\`,
	`    -H "x-rivet-conn-params: {\\"token\\":\\"$TOKEN\\"}" -d '{"args":[1]}'`,
	// example-actors:end
];

/** The banner's "Try" section: `TRY_LINES` with this cluster's addresses, or nothing when there are none. */
function tryLines(cluster: Cluster): string {
	if (TRY_LINES.length === 0) return "";
	const values = {
		app: cluster.appUrl,
		engine: cluster.engineUrl,
		pool: cluster.pool,
		adminTokenFile: path.relative(process.cwd(), path.join(cluster.dir, ADMIN_TOKEN_FILE)),
	};
	const filled = TRY_LINES.map((line) =>
		line.replace(/\{(app|engine|pool|adminTokenFile)\}/g, (_, name: keyof typeof values) => values[name]),
	);
	return `Try (as a signed-in user; a counter belongs to its first writer):\n${filled.join("\n")}\n`;
}

async function main(): Promise<void> {
	const cluster = await startCluster({ dir: DATA_DIR, log: (line) => console.log(`• ${line}`) });
	const lease = await cluster.leaseHolder();
	console.log(`\n${describe(cluster, lease ? `engine ${lease}` : "nobody yet")}`);
}

main().catch(async (error: unknown) => {
	// A signal's shutdown makes the step in progress fail; that is not news.
	if (isShuttingDown()) return;
	// A missing PostgreSQL, nats-server or nginx is a setup step, not a crash:
	// its message names the packages to install.
	const message = error instanceof Error ? error.message : String(error);
	console.error(`actor-fleet cluster: ${message}`);
	await stopTracked((line) => console.error(`• ${line}`));
	process.exit(error instanceof MissingPrerequisiteError ? 2 : 1);
});
