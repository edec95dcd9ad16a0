// WORKAROUND for rivetkit 2.3.19: a server that is stopping refuses the
// engine's new start requests itself. Applied by `serveUntilStopped`
// (src/serve.ts) around the app's fetch; proved by test/server.test.ts.
//
// After `registry.shutdown()` begins, rivetkit 2.3.19 throws on every new
// start (`Invalid native state 'core registry': shut down`) and the engine,
// on the connections it keeps open, sends more (measured: 434 such errors
// and about 30 s to stop, with many batches running). Delete this file (and
// its call) once a shut-down registry answers starts with a 503 itself.

/** Where the engine asks this server to start actors: rivetkit's default `serverless.basePath` plus `/start`. */
export const ENGINE_START_PATH = "/api/rivet/start";

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * Answers the engine's start requests with a 503 once `isStopping()` is
 * true; everything else goes to `fetch`. A 503 is the answer rivetkit itself
 * gives the engine when it cannot start actors, in the same body shape; the
 * engine starts them on another server, or here again after a restart.
 */
export function refuseStartsWhileStopping(fetch: Fetch, isStopping: () => boolean): Fetch {
	return (request, env) => {
		if (isStopping() && new URL(request.url).pathname.startsWith(ENGINE_START_PATH)) {
			const body = {
				group: "guard",
				code: "service_unavailable",
				message: "This server is stopping; it starts no more actors.",
				metadata: null,
			};
			return Response.json(body, { status: 503 });
		}
		return fetch(request, env);
	};
}
