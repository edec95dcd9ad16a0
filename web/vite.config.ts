// Vite for the web app in `web/`: `vite build` writes `web/dist`, which the
// Hono server serves in production; `npm run dev` runs the dev server (hot
// reload) in front of the Hono server.
//
// The browser always talks to its own origin's `/api/rivet` (see
// `src/lib/rivet.ts`). In development the dev server proxies `/api` and
// `/health` to the Hono server, so the same code works on :5173 and behind the
// production server with no configuration.

import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Where the dev server forwards `/api` and `/health` (the Hono server). */
const APP_SERVER_URL = process.env.APP_SERVER_URL ?? "http://127.0.0.1:3000";
/** Vite's default port; the default `ALLOWED_ORIGINS` lists it for chat connections. */
const DEV_SERVER_PORT = Number(process.env.WEB_DEV_PORT ?? 5173);

export default defineConfig({
	root: import.meta.dirname,
	plugins: [react()],
	build: {
		outDir: path.join(import.meta.dirname, "dist"),
		emptyOutDir: true,
		sourcemap: true,
	},
	server: {
		host: "127.0.0.1",
		port: DEV_SERVER_PORT,
		strictPort: true,
		proxy: {
			"/api": { target: APP_SERVER_URL, changeOrigin: false },
			"/health": { target: APP_SERVER_URL },
		},
	},
});
