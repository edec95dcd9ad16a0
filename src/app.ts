// The HTTP app. Routes only: `src/server.ts` is what listens, so tests can
// drive this with `app.request()`.
//
// Clients reach actors through the engine's gateway, not through this app:
// the engine calls `/api/rivet/*` to start actors here (serverless mode).
// Everything that is not an API route is the built web app (`web/dist`).

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { engineAccess } from "./engine-api.ts";
import { loadEnv, stripCredentials } from "./env.ts";
import { disabledFleet, FleetUnavailableError, loadFleet } from "./fleet.ts";
import { registry } from "./registry.ts";
import { webApp } from "./web-assets.ts";

/** How long `/health` waits for the engine before calling it unreachable. */
const ENGINE_HEALTH_TIMEOUT_MS = 1_500;

/** Client mistakes the app itself rejects carry one of these codes. */
export type AppErrorCode = "invalid_input" | "invalid_json" | "not_found";

export class AppError extends Error {
	readonly status: 400 | 404 | 409 | 413 | 422;
	readonly code: AppErrorCode;

	constructor(status: AppError["status"], code: AppErrorCode, message: string) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

// Parsed here, not in the registry: the app is what serves the registry, so
// rivetkit has its settings before the first request reaches `/api/rivet`.
const env = loadEnv();

export const app = new Hono();

app.get("/health", async (c) => {
	const engine = await probeEngine(env.endpoint);
	const healthy = engine.status === "ok";
	return c.json(
		{
			status: healthy ? "ok" : "degraded",
			app: { status: "ok", version: env.runnerVersion ?? null, pool: env.pool },
			engine,
		},
		healthy ? 200 : 503,
	);
});

// The benchmark's baseline (`npm run bench`): the cheapest route this server
// has, so actions through the engine compare with plain Hono in the same
// process. Also a liveness check that, unlike `/health`, never asks the engine.
app.get("/api/ping", (c) => c.json({ ok: true }));

// The engine serves actors through this route: `/metadata`, `/start` (a
// long-lived stream per actor host) and `/health`.
app.all("/api/rivet/*", (c) => registry.handler(c.req.raw));

// The web app's Fleet panel: every actor and its status, read-only, listed
// with this server's engine credentials (which never leave it).
app.get("/api/fleet", async (c) => {
	c.header("Cache-Control", "no-store");
	if (!env.fleetView) return c.json(disabledFleet());
	try {
		return c.json(await loadFleet(engineAccess(env)));
	} catch (error) {
		if (error instanceof FleetUnavailableError) {
			return c.json({ code: "fleet_unavailable", message: error.message }, 503);
		}
		throw error;
	}
});

// Last: the web app and its SPA fallback for every other GET.
app.use(webApp(env.webDist));

app.notFound((c) => c.json({ code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

app.onError((error, c) => {
	if (error instanceof AppError) {
		return c.json({ code: error.code, message: error.message }, error.status);
	}
	if (error instanceof z.ZodError) {
		const issues = error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
		return c.json({ code: "invalid_input", message: "the request is invalid", issues }, 400);
	}
	if (error instanceof HTTPException && error.status < 500) {
		// Hono raises these for malformed bodies and similar client mistakes.
		return c.json({ code: "bad_request", message: error.message }, error.status);
	}
	// Anything else is our bug: log it with detail, tell the client nothing.
	console.error(`unhandled error on ${c.req.method} ${c.req.path}:`, error);
	return c.json({ code: "internal_error", message: "an internal error occurred" }, 500);
});

export interface EngineProbe {
	endpoint: string;
	status: "ok" | "unreachable" | "unhealthy";
	version?: string;
}

async function probeEngine(endpoint: string): Promise<EngineProbe> {
	// The endpoint may carry `namespace:token@`; never echo credentials.
	const shown = stripCredentials(endpoint);
	try {
		const res = await fetch(new URL("/health", shown), { signal: AbortSignal.timeout(ENGINE_HEALTH_TIMEOUT_MS) });
		if (!res.ok) return { endpoint: shown, status: "unhealthy" };
		const body = (await res.json()) as { status?: string; version?: string };
		return body.status === "ok"
			? { endpoint: shown, status: "ok", ...(body.version ? { version: body.version } : {}) }
			: { endpoint: shown, status: "unhealthy" };
	} catch {
		return { endpoint: shown, status: "unreachable" };
	}
}
