// Writes the engine's runner config for a pool, pointing it at this app's
// `/api/rivet` serverless endpoint.
//
// rivetkit's `configurePool` would write it as a side effect of the first
// request; it is written explicitly instead (launcher, tests, `npm run
// runner-config`), so never by accident where the Rivet dashboard owns it.

import { DEV_START_SECRET, START_SECRET_HEADER } from "../../src/auth/settings.ts";

/** How long one `/start` stream may live before the engine opens a new one. */
const REQUEST_LIFESPAN_S = 3_600;
/** How often the engine polls `GET /api/rivet/metadata` (also how fast it notices a new version). */
const METADATA_POLL_INTERVAL_MS = 1_000;
const MAX_RUNNERS = 100_000;

export interface ServerlessPoolOptions {
	engineUrl: string;
	/** The app's serverless base URL, e.g. `http://127.0.0.1:3000/api/rivet`. */
	url: string;
	pool: string;
	namespace?: string;
	datacenter?: string;
	/** Sent by the engine as `x-rivet-token` on `/start`. It must be non-empty. */
	token?: string;
	/** Admin token for the engine's API, when it requires one. */
	adminToken?: string;
	/** Sent as `x-fleet-start-secret` on every `/start`; defaults as the app's does (`RIVET_START_SECRET`, else dev). */
	startSecret?: string;
}

export async function configureServerlessPool(options: ServerlessPoolOptions): Promise<void> {
	const namespace = options.namespace ?? "default";
	const datacenter = options.datacenter ?? "default";
	const body = {
		datacenters: {
			[datacenter]: {
				serverless: {
					url: options.url,
					// With empty headers the engine omits `x-rivet-pool-name` on
					// `/start` and the app rejects every start (measured on 2.3.19).
					headers: {
						"x-rivet-token": options.token || "dev",
						[START_SECRET_HEADER]: options.startSecret || process.env.RIVET_START_SECRET || DEV_START_SECRET,
					},
					request_lifespan: REQUEST_LIFESPAN_S,
					metadata_poll_interval: METADATA_POLL_INTERVAL_MS,
					max_runners: MAX_RUNNERS,
					min_runners: 0,
					runners_margin: 0,
					slots_per_runner: 1,
				},
				drain_on_version_upgrade: true,
			},
		},
	};
	const target = new URL(`/runner-configs/${encodeURIComponent(options.pool)}`, options.engineUrl);
	target.searchParams.set("namespace", namespace);
	const headers: Record<string, string> = { "content-type": "application/json" };
	if (options.adminToken) headers.authorization = `Bearer ${options.adminToken}`;
	const res = await fetch(target, { method: "PUT", headers, body: JSON.stringify(body) });
	if (!res.ok) {
		throw new Error(`runner config for pool "${options.pool}" was rejected: ${res.status} ${await res.text()}`);
	}
}
