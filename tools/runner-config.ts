// `npm run runner-config -- --url https://app.example.com/api/rivet`
//
// Points a self-hosted engine's runner config for RIVET_POOL at this app
// (why the server never writes it itself: tools/local/runner-config.ts).

import { parseArgs } from "node:util";
import { configureServerlessPool } from "./local/runner-config.ts";

const USAGE = `usage: npm run runner-config -- --url <app base url>/api/rivet [--datacenter default]

Writes the runner config for pool $RIVET_POOL (default "default") on the engine at
$RIVET_ENDPOINT (https://<namespace>:<token>@host works; or RIVET_NAMESPACE / RIVET_TOKEN).
The engine will send $RIVET_START_SECRET (the app server's value) as x-fleet-start-secret on /start.`;

const { values } = parseArgs({
	options: {
		url: { type: "string" },
		datacenter: { type: "string", default: "default" },
		help: { type: "boolean", short: "h", default: false },
	},
});

if (values.help || !values.url) {
	console.log(USAGE);
	process.exit(values.help ? 0 : 2);
}

const endpoint = new URL(process.env.RIVET_ENDPOINT || "http://127.0.0.1:6420");
const namespace = process.env.RIVET_NAMESPACE || decodeURIComponent(endpoint.username) || "default";
const token = process.env.RIVET_TOKEN || decodeURIComponent(endpoint.password) || undefined;
endpoint.username = "";
endpoint.password = "";
const pool = process.env.RIVET_POOL || "default";

try {
	await configureServerlessPool({
		engineUrl: endpoint.origin,
		url: values.url,
		pool,
		namespace,
		datacenter: values.datacenter,
		// The app refuses /start without it; both sides read RIVET_START_SECRET.
		...(process.env.RIVET_START_SECRET ? { startSecret: process.env.RIVET_START_SECRET } : {}),
		...(token ? { token, adminToken: token } : {}),
	});
	console.log(`runner config written: namespace ${namespace}, pool ${pool} → ${values.url}`);
} catch (error) {
	console.error(`runner-config: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
}
