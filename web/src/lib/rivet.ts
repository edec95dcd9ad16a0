// The one RivetKit client of the web app.
//
// The registry is imported as a type only: the browser gets the actors' action
// and event types, never their server code.
//
// Endpoint: by default the page's own origin + `/api/rivet`. The Hono server
// answers `GET /api/rivet/metadata` with the engine's public address
// (`RIVET_PUBLIC_ENDPOINT`), and the client switches to it; actions and
// connections then go straight to the engine. So one build works on the dev
// server (which proxies `/api`), behind the production server and behind any
// domain, with no setup. `VITE_RIVET_ENDPOINT` at build time overrides it
// (e.g. a Rivet Cloud endpoint). The client reads the metadata once per page,
// so after that the app server is not on the path between page and actors.
//
// Pool: actors are created in the runner pool `VITE_RIVET_POOL` (default
// "default"), which must be the pool the server hosts (`RIVET_POOL`);
// `npm start` builds with the server's pool.
//
// Connections are opened by `@rivetkit/react`'s `useActor`, bound to this
// client below; lib/actor.ts decides its `params` and `enabled` so that a
// connection stays live through faults (docs/web.md).

import { createRivetKitWithClient } from "@rivetkit/react";
import { createClient } from "rivetkit/client";
import type { Registry } from "../../../src/registry.ts";

export const RIVET_ENDPOINT: string =
	import.meta.env.VITE_RIVET_ENDPOINT || new URL("/api/rivet", window.location.origin).toString();

export const RIVET_POOL: string = import.meta.env.VITE_RIVET_POOL || "default";

export const client = createClient<Registry>({
	endpoint: RIVET_ENDPOINT,
	poolName: RIVET_POOL,
	// The devtools overlay loads its script from `<endpoint>/devtools/mod.js`,
	// which neither the Hono server nor the engine serves: the page would log
	// a failed script load on every visit from localhost.
	devtools: false,
});

/** `@rivetkit/react`'s hooks on this client: every panel connects through `useActor`. */
export const { useActor } = createRivetKitWithClient<Registry>(client);
