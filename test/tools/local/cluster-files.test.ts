// The committed deployment files in deploy/cluster/ are accepted by the real
// programs that run them, and a missing program is reported as a package to
// install, not as a stack trace.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../../tools/local/app-server.ts";
import { writeEngineNodeConfig } from "../../../tools/local/cluster.ts";
import { enginePath } from "../../../tools/local/engine.ts";
import { writeNginxConfig } from "../../../tools/local/nginx.ts";
import { findClusterBinaries, MissingPrerequisiteError } from "../../../tools/local/prerequisites.ts";
import { renderTemplate } from "../../../tools/local/templates.ts";

const run = promisify(execFile);
const dirs: string[] = [];

function tempDir(): string {
	const dir = mkdtempSync(path.join(tmpdir(), "actor-fleet-files-"));
	dirs.push(dir);
	return dir;
}

afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("deploy/cluster files", () => {
	test("engine.json, rendered for one node, is a PostgreSQL + NATS config the engine accepts", async () => {
		const file = writeEngineNodeConfig(path.join(tempDir(), "engine.json"), {
			postgresUrl: "postgresql://rivet:secret@db.internal:5432/rivet",
			natsAddress: "nats.internal:4222",
			natsUser: "rivet-engine",
			natsPassword: "nats-secret",
			adminToken: "admin-secret",
			publicUrl: "https://engine.example.com",
			peerUrl: "http://10.0.0.11:6421",
			listenHost: "0.0.0.0",
		});
		expect(readFileSync(file, "utf8")).not.toContain("{{");
		const { stdout } = await run(enginePath(), ["config", "show", "--config", file]);
		expect(stdout).toContain("Postgres(");
		expect(stdout).toMatch(/pubsub: Some\(\s*Nats\(/);
		expect(stdout).toMatch(/addresses: \[\\*"nats\.internal:4222\\*"\]/);
		// NATS admits only the engine nodes, and an admin token guards the management API.
		expect(stdout).toMatch(/username: Some\(\\*"rivet-engine\\*"\), password: Some\(Secret\)/);
		expect(stdout).toContain("auth: Some(Auth { admin_token: Secret })");
		// The shared public URL, which serverless apps compare with their endpoint.
		expect(stdout).toMatch(/public_url: Url \{\s*scheme: "https",[^}]*Domain\(\s*"engine\.example\.com"/);
	});

	test("the nginx includes pass `nginx -t`", async () => {
		const { nginx } = findClusterBinaries();
		const dir = tempDir();
		const main = writeNginxConfig({
			dir,
			command: nginx,
			engineLbPort: 16420,
			engines: ["10.0.0.11:6420", "10.0.0.12:6420"],
			appLbPort: 18080,
			apps: ["10.0.0.21:3000", "10.0.0.22:3000"],
		});
		const { stderr } = await run(nginx, ["-t", "-p", dir, "-c", main, "-e", path.join(dir, "error.log")]);
		expect(stderr).toContain("syntax is ok");
		expect(stderr).toContain("test is successful");
	});

	test("a placeholder without a value is an error, never left in a config", () => {
		expect(() => renderTemplate("listen {{PORT}}; server {{HOST}};", { PORT: "80" })).toThrow(
			"no value for template placeholder(s): HOST",
		);
	});
});

describe("missing prerequisites", () => {
	test("name the Debian packages to install", () => {
		const lookup = () =>
			findClusterBinaries({
				PATH: "",
				POSTGRES_BIN: "/nonexistent",
				NATS_SERVER: "/nonexistent",
				NGINX: "/nonexistent",
			});
		expect(lookup).toThrow(MissingPrerequisiteError);
		expect(lookup).toThrow("apt-get install -y postgresql nats-server nginx");
	});

	test("`npm run cluster` without PostgreSQL says what to install and starts nothing", async () => {
		const result = await run(process.execPath, [path.join(PROJECT_ROOT, "tools/cluster.ts")], {
			cwd: PROJECT_ROOT,
			env: { ...process.env, POSTGRES_BIN: "/nonexistent" },
		}).then(
			() => ({ code: 0, stderr: "" }),
			(error: { code: number; stderr: string }) => error,
		);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain("missing: PostgreSQL");
		expect(result.stderr).toContain("apt-get install -y postgresql");
		// A message, not a stack trace.
		expect(result.stderr).not.toMatch(/^\s+at /m);
	});
});
