// When each engine `/api/rivet/start` request reaches an app server, for the
// cold-start phases (tools/bench/scenarios/cold-start.ts). The bench preloads
// `start-timings-preload.ts` into its servers (`node --import`, through
// NODE_OPTIONS), so the product carries no switch for it: Node's HTTP server
// announces every request on a diagnostics channel before any route runs.

import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** The line printed per `/start` request, followed by the epoch milliseconds it arrived. */
export const START_TIMING_PREFIX = "fleet-timing: /api/rivet/start request at epoch ms";

/** NODE_OPTIONS for an app server that prints `START_TIMING_PREFIX` lines. */
export const START_TIMINGS_NODE_OPTIONS = `--import=${pathToFileURL(path.join(import.meta.dirname, "start-timings-preload.ts")).href}`;

/** Prints a `START_TIMING_PREFIX` line for every `/api/rivet/start` request this process receives. */
export function logStartRequests(): void {
	subscribe("http.server.request.start", (message) => {
		const url = (message as { request?: IncomingMessage }).request?.url ?? "";
		if (url.startsWith("/api/rivet/start")) console.log(`${START_TIMING_PREFIX} ${Date.now()}`);
	});
}
