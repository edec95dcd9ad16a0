// Builds the web app (`web/`, Vite) for the launcher and the tests. A build is
// current when its `index.html` is newer than every input and it was built for
// the same pool and endpoint: `npm start` builds only when it is not.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { PROJECT_ROOT } from "./app-server.ts";
import { trackChild } from "./lifecycle.ts";

export const WEB_ROOT = path.join(PROJECT_ROOT, "web");
export const WEB_DIST = path.join(WEB_ROOT, "dist");
const VITE_CONFIG = path.join(WEB_ROOT, "vite.config.ts");
/** What the app was built for; compared on the next start. Harmless if served. */
const STAMP_FILE = "build-stamp.json";
/** Files whose change makes a build stale, besides everything in `web/src`. */
const EXTRA_INPUTS = [path.join(WEB_ROOT, "index.html"), VITE_CONFIG, path.join(PROJECT_ROOT, "package-lock.json")];

export interface WebBuildOptions {
	/** Defaults to `web/dist`. */
	outDir?: string;
	/** The runner pool the browser creates actors in (`VITE_RIVET_POOL`). */
	pool?: string;
	/** Append Vite's output here; by default it is inherited. */
	logFile?: string;
}

interface Stamp {
	pool: string;
	endpoint: string | null;
}

function stampFor(options: WebBuildOptions): Stamp {
	// No launcher overrides the endpoint the browser starts from (`VITE_RIVET_ENDPOINT`).
	return { pool: options.pool ?? "default", endpoint: null };
}

export async function buildWebApp(options: WebBuildOptions = {}): Promise<void> {
	const outDir = options.outDir ?? WEB_DIST;
	const vite = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
	const stamp = stampFor(options);
	let stdio: "inherit" | ["ignore", NodeJS.WritableStream, NodeJS.WritableStream] = "inherit";
	if (options.logFile) {
		const log = createWriteStream(options.logFile, { flags: "a" });
		await new Promise((resolve) => log.once("open", resolve));
		stdio = ["ignore", log, log];
	}
	const child = spawn(
		process.execPath,
		[vite, "build", "--config", VITE_CONFIG, "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"],
		{
			cwd: PROJECT_ROOT,
			stdio: stdio as never,
			env: {
				...process.env,
				VITE_RIVET_POOL: stamp.pool,
				VITE_RIVET_ENDPOINT: stamp.endpoint ?? "",
			},
		},
	);
	const exited = new Promise<number | null>((resolve, reject) => {
		child.once("error", reject);
		child.once("exit", resolve);
	});
	// A signal during the build stops it too (see lifecycle.ts).
	trackChild("the web build", child, exited);
	const code = await exited;
	if (code !== 0) throw new Error(`building the web app failed (vite exited with ${code})`);
	writeFileSync(path.join(outDir, STAMP_FILE), `${JSON.stringify(stamp)}\n`);
}

/** Whether `outDir` holds a build of the current sources for these options. */
export function isWebBuildCurrent(options: WebBuildOptions = {}): boolean {
	const outDir = options.outDir ?? WEB_DIST;
	const index = path.join(outDir, "index.html");
	const stampPath = path.join(outDir, STAMP_FILE);
	if (!existsSync(index) || !existsSync(stampPath)) return false;
	try {
		const stamp = JSON.parse(readFileSync(stampPath, "utf8")) as Stamp;
		const wanted = stampFor(options);
		if (stamp.pool !== wanted.pool || stamp.endpoint !== wanted.endpoint) return false;
	} catch {
		return false;
	}
	const builtAt = statSync(index).mtimeMs;
	return newestInput() <= builtAt;
}

function newestInput(): number {
	let newest = 0;
	const visit = (file: string): void => {
		const stats = statSync(file);
		if (stats.isDirectory()) {
			for (const entry of readdirSync(file)) visit(path.join(file, entry));
		} else {
			newest = Math.max(newest, stats.mtimeMs);
		}
	};
	visit(path.join(WEB_ROOT, "src"));
	for (const file of EXTRA_INPUTS) if (existsSync(file)) visit(file);
	return newest;
}
