// The HTTP app. Routes only: `src/server.ts` is what listens, so tests can
// drive this with `app.request()`. `createApp` takes the registry it serves,
// so the test suite's fixture server (test/fixtures/server.ts) runs the same
// routes and guards around actors of its own.
//
// Clients reach actors through the engine's gateway, not through this app:
// the engine calls `/api/rivet/*` to start actors here (serverless mode).
// Everything that is not an API route is the built web app (`web/dist`).

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { authRoutes, RIVET_START_PATH, requireOperatorToken, requireStartSecret } from "./auth/routes.ts";
import { engineAccess } from "./engine-api.ts";
import { loadEnv, stripCredentials } from "./env.ts";
import { disabledFleet, FleetUnavailableError, loadFleet } from "./fleet.ts";
import { HttpError, httpErrorHandler } from "./http-error.ts";
import { webApp } from "./web-assets.ts";

/** How long `/health` waits for the engine before calling it unreachable. */
const ENGINE_HEALTH_TIMEOUT_MS = 1_500;
/** Largest body `/api/rivet/start` accepts: rivetkit's own limit for the engine's start payload (16 MiB). */
export const START_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
/** Largest body any other route accepts (sign-in is a name; nothing else takes a body). */
export const BODY_LIMIT_BYTES = 16 * 1024;
/** The engine's own routes under `/api/rivet` that browsers, the engine and Rivet Compute read without a secret. */
const OPEN_RIVET_PATHS = new Set(["/api/rivet/metadata", "/api/rivet/health"]);

const tooLarge = (limit: number) => () => {
	throw new HttpError(413, "payload_too_large", `the body exceeds ${limit} bytes`);
};

/**
 * Hono's `secureHeaders` settings for the web app. The page loads only its
 * own files, and talks to two places: this app (`/api/auth`, `/api/fleet`,
 * `/api/rivet/metadata`) and the engine whose address that metadata gives
 * (`RIVET_PUBLIC_ENDPOINT`, else `RIVET_ENDPOINT` without credentials), over
 * HTTP for actions and the path check (web/src/lib/liveness.ts) and over
 * WebSocket for connections. `frame-ancestors 'none'` (and
 * `X-Frame-Options: DENY` for old browsers) keeps the sign-in form out of
 * other sites' frames; `no-referrer` keeps addresses (`?counter=`, `?room=`)
 * on this site.
 */
export function securityHeaderOptions(engineEndpoint: string): NonNullable<Parameters<typeof secureHeaders>[0]> {
	const engine = new URL(engineEndpoint);
	const socketScheme = engine.protocol === "https:" ? "wss:" : "ws:";
	return {
		contentSecurityPolicy: {
			defaultSrc: ["'self'"],
			// 'report-sample': a violation report shows the start of the blocked
			// code, so the browser test can tell the client libraries' empty
			// `Function("")` probe (they fall back when eval is refused) from a real eval.
			scriptSrc: ["'self'", "'report-sample'"],
			styleSrc: ["'self'"],
			// The page's icon is `data:,` (web/index.html): no request for /favicon.ico.
			imgSrc: ["'self'", "data:"],
			connectSrc: ["'self'", engine.origin, `${socketScheme}//${engine.host}`],
			objectSrc: ["'none'"],
			baseUri: ["'self'"],
			formAction: ["'self'"],
			frameAncestors: ["'none'"],
		},
		xFrameOptions: "DENY",
		xContentTypeOptions: true,
		referrerPolicy: "no-referrer",
		// Whether a site is HTTPS-only is for whoever terminates TLS in front of
		// this server, not for a header sent over plain HTTP on loopback.
		strictTransportSecurity: false,
	};
}

/** What the app needs of a registry: rivetkit's serverless handler. */
export interface ServedRegistry {
	handler(request: Request): Promise<Response>;
}

/** The app around `served`: its routes, auth guards, body limits and error handler. */
export function createApp(served: ServedRegistry): Hono {
	// Parsed here, not in the registry: the app is what serves the registry, so
	// rivetkit has its settings before the first request reaches `/api/rivet`.
	const env = loadEnv();
	const app = new Hono();

	// The engine's routes under `/api/rivet` (served by the registry below):
	// only `/metadata` and `/health` are open; every other path, above all
	// `/start`, needs the start secret that the runner config makes the engine
	// send. Checked first, so a stranger learns nothing, not even the body limit.
	// With `RIVET_START_GUARD=off` (Rivet Compute) `/start` alone passes without
	// it and every other such path, `/metrics` included, is refused.
	const startSecret = requireStartSecret(env.auth);
	app.all("/api/rivet/*", async (c, next) => {
		if (OPEN_RIVET_PATHS.has(c.req.path.replace(/\/+$/, ""))) return next();
		return startSecret(c, next);
	});
	// Body limits next, so no route reads more than it allows. The engine's
	// start payload gets rivetkit's size; everything else a small one.
	app.use(async (c, next) => {
		const start = isRivetStart(c.req.path);
		const limit = start ? START_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES;
		return bodyLimit({ maxSize: limit, onError: tooLarge(limit) })(c, next);
	});

	// Security headers on everything this app answers itself: the web app's
	// pages above all (the sign-in form), and its JSON routes. Not on
	// `/api/rivet/*`, whose answers are rivetkit's (the engine's `/start`
	// stream, `/metadata`), left exactly as rivetkit makes them.
	const pageHeaders = secureHeaders(securityHeaderOptions(env.publicEndpoint ?? stripCredentials(env.endpoint)));
	app.use(async (c, next) => (c.req.path.startsWith("/api/rivet/") ? next() : pageHeaders(c, next)));

	// Public: load balancers and the launcher poll it. It says whether the app
	// and the engine answer, never where the engine is or which pool this is.
	app.get("/health", async (c) => {
		const engine = await probeEngine(env.endpoint);
		const healthy = engine.status === "ok";
		return c.json(
			{
				status: healthy ? "ok" : "degraded",
				app: { status: "ok", version: env.runnerVersion ?? null },
				engine,
			},
			healthy ? 200 : 503,
		);
	});

	app.route("/api/auth", authRoutes(env.auth));

	// Liveness: this process answers, whatever the engine does. `/health` above
	// is readiness (it asks the engine); a load balancer or orchestrator that
	// restarts dead processes should poll this one, so an engine outage never
	// restarts healthy servers (docs/deploying.md). The lab's bench uses it as
	// its baseline, the cheapest route the server has.
	app.get("/api/ping", (c) => c.json({ ok: true }));

	// The engine serves actors through this route: `/metadata`, `/start` (a
	// long-lived stream per actor host) and `/health`.
	app.all("/api/rivet/*", (c) => served.handler(c.req.raw));

	// The web app's Fleet panel: every actor and its status, read-only, listed
	// with this server's engine credentials (which never leave it). Operators
	// only (`Authorization: Bearer <OPERATOR_TOKEN>`); a disabled view answers
	// anyone, since it lists nothing.
	const operatorOnly = requireOperatorToken(env.auth);
	app.get("/api/fleet", async (c, next) => {
		c.header("Cache-Control", "no-store");
		if (!env.fleetView) return c.json(disabledFleet());
		return operatorOnly(c, next);
	});
	app.get("/api/fleet", async (c) => {
		try {
			return c.json(await loadFleet(engineAccess(env)));
		} catch (error) {
			if (error instanceof FleetUnavailableError) throw new HttpError(503, "fleet_unavailable", error.message);
			throw error;
		}
	});

	// Last: the web app and its SPA fallback for every other GET.
	app.use(webApp(env.webDist));

	app.notFound((c) =>
		httpErrorHandler(new HttpError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`), c),
	);

	// Every refusal the routes throw becomes JSON here (src/http-error.ts).
	app.onError(httpErrorHandler);

	return app;
}

/** rivetkit serves `/start` with or without trailing slashes; so does this check. */
function isRivetStart(path: string): boolean {
	return path.replace(/\/+$/, "") === RIVET_START_PATH;
}

export interface EngineProbe {
	status: "ok" | "unreachable" | "unhealthy";
	version?: string;
}

async function probeEngine(endpoint: string): Promise<EngineProbe> {
	// The endpoint may carry `namespace:token@`; never send credentials to /health.
	const bare = stripCredentials(endpoint);
	try {
		const res = await fetch(new URL("/health", bare), { signal: AbortSignal.timeout(ENGINE_HEALTH_TIMEOUT_MS) });
		if (!res.ok) return { status: "unhealthy" };
		const body = (await res.json()) as { status?: string; version?: string };
		return body.status === "ok"
			? { status: "ok", ...(body.version ? { version: body.version } : {}) }
			: { status: "unhealthy" };
	} catch {
		return { status: "unreachable" };
	}
}
