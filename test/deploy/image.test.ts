// The production image, without Docker: the Dockerfile's build stage replayed
// (.dockerignore's context, then its `RUN` lines) in a temporary copy, only what
// the final stage copies put in a folder of its own, and that booted as Rivet
// Compute runs it, as a serverless runner of the test engine.

// biome-ignore-all assist/source/organizeImports: the example actors' imports sit between the markers that the README's removal block deletes, after the imports that stay.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
	copyFileSync,
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT, type RunningAppServer, startAppServer } from "../../tools/local/app-server.ts";
import { type RunningEngine, startEngineOnFreePort } from "../../tools/local/engine.ts";
import { freePort } from "../../tools/local/ports.ts";
import { configureServerlessPool } from "../../tools/local/runner-config.ts";
import { productionSecrets } from "../../tools/local/stack.ts";
import { uniqueKey } from "../support.ts";
// example-actors:start (the README's removal block deletes these lines)
import { createClient } from "rivetkit/client";
import type { Registry } from "../../src/registry.ts";
// example-actors:end

const IMAGE_VERSION = "7";

/** Every file of the built web app, as text: what a browser can download. */
function builtWebFiles(dir: string): string[] {
	return readdirSync(dir, { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile())
		.map((entry) => readFileSync(path.join(entry.parentPath, entry.name), "utf8"));
}

/** Top-level entries .dockerignore keeps out of the build context. */
function dockerIgnored(): (name: string) => boolean {
	const patterns = readFileSync(path.join(PROJECT_ROOT, ".dockerignore"), "utf8")
		.split("\n")
		.map((l) => l.trim())
		.filter((l) => l && !l.startsWith("#"));
	const globs = patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`));
	return (relative) => globs.some((g) => g.test(relative) || g.test(relative.split("/")[0] ?? ""));
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
	return execFileSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, stdio: "pipe" });
}

/** Where `installFromLockfile` keeps the result of a real `npm ci`, one folder per set of inputs. */
const NPM_CI_CACHE = path.join(PROJECT_ROOT, "node_modules", ".cache", "actor-fleet-image-npm-ci");
/** The root package's scripts that `npm ci` itself runs. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare"];

/** What decides the tree `npm ci` installs: lockfile, package.json (but scripts it never runs), args, platform, Node. */
function npmCiInputs(cwd: string, args: string[]): string {
	const { scripts = {}, ...manifest } = JSON.parse(readFileSync(path.join(cwd, "package.json"), "utf8")) as {
		scripts?: Record<string, string>;
	};
	const installScripts = Object.entries(scripts).filter(([name]) => INSTALL_SCRIPTS.includes(name));
	return createHash("sha256")
		.update(JSON.stringify([manifest, installScripts, args, process.platform, process.arch, process.version]))
		.update(readFileSync(path.join(cwd, "package-lock.json")))
		.digest("hex")
		.slice(0, 24);
}

/**
 * Copies `from` to `to` as hard links (`cp -al`), or returns false. `npm prune`
 * rewrites `.package-lock.json` in place (the one file a build or prune does), so it is copied.
 */
function linkTree(from: string, to: string): boolean {
	try {
		execFileSync("cp", ["-al", from, to], { stdio: "ignore" });
		const hidden = path.join(to, ".package-lock.json");
		rmSync(hidden, { force: true });
		if (existsSync(path.join(from, ".package-lock.json"))) copyFileSync(path.join(from, ".package-lock.json"), hidden);
		return true;
	} catch {
		rmSync(to, { recursive: true, force: true });
		return false;
	}
}

/** The build stage's `npm ci`: linked from a kept real one with the same inputs, else run and kept (newest only). */
function installFromLockfile(cwd: string, args: string[]): void {
	const kept = path.join(NPM_CI_CACHE, npmCiInputs(cwd, args));
	const nodeModules = path.join(cwd, "node_modules");
	if (existsSync(kept) && linkTree(kept, nodeModules)) return;
	run("npm", args, cwd);
	rmSync(NPM_CI_CACHE, { recursive: true, force: true });
	mkdirSync(NPM_CI_CACHE, { recursive: true });
	// Linked under a temporary name and then renamed, so an interrupted run leaves no half tree under the kept name.
	const partial = mkdtempSync(path.join(NPM_CI_CACHE, "partial-"));
	if (linkTree(nodeModules, path.join(partial, "tree"))) renameSync(path.join(partial, "tree"), kept);
	rmSync(partial, { recursive: true, force: true });
}

/** The Dockerfile's stages: the build stage's text and the final stage's. */
function stages(): { build: string; final: string } {
	const dockerfile = readFileSync(path.join(PROJECT_ROOT, "Dockerfile"), "utf8");
	const [, build = "", final = ""] = dockerfile.split(/^FROM .*$/m);
	return { build, final };
}

/** The build stage's `RUN` commands, in order. */
function buildStageRuns(): string[][] {
	return [...stages().build.matchAll(/^RUN (.+)$/gm)].map((m) => (m[1] ?? "").trim().split(/\s+/));
}

/** The final stage's `ENV` names and values (one `ENV` with `\`-continued lines). */
function finalStageEnv(): Record<string, string> {
	const env: Record<string, string> = {};
	const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(stages().final)?.[1] ?? "";
	for (const [, name = "", value = ""] of block.matchAll(/([A-Z_]+)=(\S*)/g)) env[name] = value;
	return env;
}

/** What the final stage copies from the build stage: `[from, to]`, relative to /app. */
function finalStageCopies(): Array<[string, string]> {
	return [...stages().final.matchAll(/^COPY --from=build (?:--chown=\S+ )?\/app\/(\S+) \.\/(\S*)$/gm)].map(
		(m): [string, string] => [m[1] ?? "", m[2] || path.basename(m[1] ?? "")],
	);
}

let workDir: string;
let imageDir: string;
let server: RunningAppServer | undefined;
let engine: RunningEngine | undefined;
const pool = uniqueKey("image");

beforeAll(async () => {
	workDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-image-"));
	const ignored = dockerIgnored();
	// COPY . . (the build context)
	cpSync(PROJECT_ROOT, workDir, {
		recursive: true,
		filter: (src) => {
			const relative = path.relative(PROJECT_ROOT, src);
			return relative === "" || !ignored(relative);
		},
	});
	// The build stage's RUN lines as written (`npm ci` through `installFromLockfile`).
	for (const [cmd = "", ...args] of buildStageRuns()) {
		if (cmd === "npm" && args[0] === "ci") installFromLockfile(workDir, [...args, "--prefer-offline"]);
		else run(cmd, args, workDir, { RIVET_RUNNER_VERSION: IMAGE_VERSION });
	}
	// The final stage: only what it copies (folders as hard links where possible: the same files, at once).
	imageDir = path.join(workDir, ".image");
	for (const [from, to] of finalStageCopies()) {
		const [source, target] = [path.join(workDir, from), path.join(imageDir, to)];
		mkdirSync(path.dirname(target), { recursive: true });
		if (!statSync(source).isDirectory() || !linkTree(source, target)) cpSync(source, target, { recursive: true });
	}
}, 240_000);

afterAll(async () => {
	await server?.stop();
	await engine?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("the production image's contents", () => {
	test("the build context leaves out local state and secrets", () => {
		const ignored = dockerIgnored();
		for (const name of ["node_modules", ".git", ".data", ".env", "dist"]) expect(ignored(name)).toBe(true);
		expect(ignored("src")).toBe(false);
	});

	test("the build installs exactly the lockfile and the image leaves the port to the platform", () => {
		expect(buildStageRuns()).toEqual([
			["npm", "ci", "--no-audit", "--no-fund"],
			["npm", "run", "build"],
			["npm", "prune", "--omit=dev", "--no-audit", "--no-fund"],
		]);
		// A PORT baked in would win over the RIVET_PORT that Rivet Compute sets.
		expect(Object.keys(finalStageEnv()).sort()).toEqual(["HOST", "NODE_ENV", "RIVET_RUNNER_VERSION"]);
		expect(finalStageEnv()).toMatchObject({ NODE_ENV: "production", HOST: "0.0.0.0" });
	});

	test("the image holds only the product: the server's source, its dependencies and the builds", () => {
		expect(finalStageCopies()).toEqual([
			["package.json", "package.json"],
			["node_modules", "node_modules"],
			["src", "src"],
			["dist", "dist"],
			["web/dist", "web/dist"],
		]);
		expect(readdirSync(imageDir).sort()).toEqual(["dist", "node_modules", "package.json", "src", "web"]);
		// The harness (launcher, cluster, debug CLI, bench) stays in the build stage.
		expect(existsSync(path.join(workDir, "tools"))).toBe(true);
		expect(readdirSync(path.join(imageDir, "src")).sort()).toEqual([
			"actors",
			"app.ts",
			"auth",
			"build-info.ts",
			// example-actors:start (the README's removal block deletes these lines)
			"concurrency.ts",
			// example-actors:end
			"engine-api.ts",
			"env.ts",
			"fleet.ts",
			"http-error.ts",
			"registry.ts",
			"runtime.ts",
			"serve.ts",
			"server.ts",
			"settings.ts",
			"web-assets.ts",
			"workarounds",
		]);
	});

	test("only production dependencies remain after the prune", () => {
		const installed = (name: string) => existsSync(path.join(imageDir, "node_modules", name, "package.json"));
		for (const runtime of ["rivetkit", "hono", "@hono/node-server", "zod", "drizzle-orm"]) {
			expect(installed(runtime)).toBe(true);
		}
		// (drizzle-kit stays: rivetkit declares it as a peer dependency.)
		for (const devOnly of ["vitest", "typescript", "@biomejs/biome", "node"]) {
			expect(installed(devOnly)).toBe(false);
		}
	});

	test("it boots as Rivet Compute runs it, against an engine that requires a token, and serves a signed-in user end to end", async () => {
		// The build baked the runner version in, which the server below reports.
		const info = JSON.parse(readFileSync(path.join(imageDir, "dist/build-info.json"), "utf8"));
		expect(info).toMatchObject({ runnerVersion: Number(IMAGE_VERSION), source: "RIVET_RUNNER_VERSION" });
		// Production refuses to boot without its own secrets (src/auth/settings.ts).
		const secrets = productionSecrets();
		expect(existsSync(path.join(imageDir, "src/server.ts"))).toBe(true);
		// An engine in production shape: its management API needs the admin
		// token (docs/security.md says what that token guards).
		const adminToken = randomBytes(32).toString("base64url");
		engine = await startEngineOnFreePort({
			dataDir: path.join(workDir, "engine"),
			env: { RIVET__AUTH__ADMIN_TOKEN: adminToken },
		});
		const port = await freePort();
		server = await startAppServer({
			port,
			cwd: imageDir,
			entry: path.join(imageDir, "src/server.ts"),
			logFile: path.join(workDir, "server.log"),
			// What a Compute container gets (but on loopback): RIVET_PORT, no PORT, and an empty
			// version variable (`docker build` without the build arg), so the version comes from the build.
			env: {
				...finalStageEnv(),
				HOST: "127.0.0.1",
				PORT: undefined,
				RIVET_PORT: String(port),
				RIVETKIT_RUNTIME_MODE: "serverless",
				RIVET_ENDPOINT: engine.url,
				RIVET_TOKEN: adminToken,
				RIVET_PUBLIC_ENDPOINT: engine.url,
				RIVET_POOL: pool,
				RIVET_RUNNER_VERSION: "",
				...secrets,
			},
		});
		// Compute's own health check.
		expect((await fetch(`${server.url}/api/rivet/health`)).status).toBe(200);
		const health = await fetch(`${server.url}/health`);
		expect(health.status).toBe(200);
		const healthText = await health.text();
		expect(JSON.parse(healthText)).toMatchObject({ app: { version: Number(IMAGE_VERSION) } });

		// `npm run build` also built the web app, which the server serves at `/`.
		const page = await fetch(`${server.url}/`);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('<div id="root">');

		const metadata = await fetch(`${server.url}/api/rivet/metadata`);
		expect(metadata.status).toBe(200);
		const metadataText = await metadata.text();
		expect(JSON.parse(metadataText)).toMatchObject({
			runtime: "rivetkit",
			envoy: { version: Number(IMAGE_VERSION) },
			clientEndpoint: expect.stringContaining(new URL(engine.url).host),
		});

		// The engine needs the admin token to accept the runner config.
		await configureServerlessPool({
			engineUrl: engine.url,
			url: `${server.url}/api/rivet`,
			pool,
			startSecret: secrets.RIVET_START_SECRET,
			adminToken,
			token: adminToken,
		});

		// A user signs in on the app; the server issues the identity.
		const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ name: "ada" }),
		});
		expect(signIn.status).toBe(200);
		const signInText = await signIn.text();
		const user = JSON.parse(signInText) as { userId: string; token: string };
		expect(user.userId).toMatch(/^u_/);

		// No secret reaches a browser: not in what the server answers to
		// anyone (health, metadata, sign-in) nor in the web app it serves.
		const served = [healthText, metadataText, signInText, ...builtWebFiles(path.join(imageDir, "web/dist"))];
		for (const [name, value] of Object.entries({ adminToken, ...secrets })) {
			const leaks = served.filter((text) => text.includes(value));
			expect(leaks, `${name} was served`).toEqual([]);
		}

		// example-actors:start (the README's removal block deletes these lines)
		// The signed-in user's calls, end to end through the token-guarded
		// engine, with no engine token on the client (as in a browser).
		const client = createClient<Registry>({ endpoint: engine.url, poolName: pool });
		try {
			const params = { token: user.token };
			const counter = client.counter.getOrCreate([uniqueKey("image-counter")], { params });
			expect(await counter.increment(3)).toBe(3);
			// An actor with SQLite: its drizzle migrations load from the image's copy.
			const room = client.chatRoom.getOrCreate([uniqueKey("image-room")], { params });
			const posted = await room.postMessage("hello from the image");
			expect(posted).toMatchObject({ userId: user.userId, text: "hello from the image" });
			// Without a token the same calls are refused.
			const stranger = client.counter.getOrCreate([uniqueKey("image-counter")]);
			await expect(stranger.increment(1)).rejects.toMatchObject({ code: "unauthenticated" });
		} finally {
			await client.dispose();
		}
		// example-actors:end
	});
});
