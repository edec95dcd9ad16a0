// `npm run inspect`: help at every level, tables and --json, and one-line
// failures with a non-zero exit. Mostly run in-process (`runCli`); two runs
// go through npm to check the script wiring and real exit codes.

import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { readInspectorToken } from "../../../tools/debug/inspector.ts";
import { PROJECT_ROOT } from "../../../tools/local/app-server.ts";
import { freePort } from "../../../tools/local/ports.ts";
import { fixtureAppUrl as appUrl, fixtureEngineUrl, fixturePool, uniqueKey } from "../../support.ts";
import { freshActor, inspect, inspectJson, inspectOut, testEngine } from "./support.ts";

function expectOneLineFailure(run: { code: number; stdout: string; stderr: string }, code: number, text: string): void {
	expect(run.code).toBe(code);
	expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
	expect(run.stderr).toContain(text);
}

describe("help", () => {
	test("every level has --help, and a bare group or no command is a usage error", async () => {
		const top = await inspect("--help");
		expect(top.code).toBe(0);
		for (const command of ["actors", "summary", "state get", "workflow replay", "db sql", "health-check"]) {
			expect(top.stdout).toContain(`  ${command} `);
		}
		const group = await inspect("db", "--help");
		expect(group).toMatchObject({ code: 0, stdout: expect.stringContaining("usage: inspect db <schema|rows|sql>") });
		const leaf = await inspect("db", "sql", "--help");
		expect(leaf.code).toBe(0);
		expect(leaf.stdout).toContain("--properties JSON");
		expect(leaf.stdout).toContain("<actor> is <name> <key>");

		expect(await inspect()).toMatchObject({ code: 2, stdout: expect.stringContaining("usage: npm run -s inspect") });
		expectOneLineFailure(await inspect("state"), 2, '"state" needs a subcommand: get, set');
		expectOneLineFailure(await inspect("frobnicate"), 2, 'unknown command "frobnicate"');
		expectOneLineFailure(await inspect("names", "--limit", "3"), 2, "names does not take --limit");
		expectOneLineFailure(await inspect("actors", "--key", "k"), 2, "a key needs a name");
		expectOneLineFailure(await inspect("actors", "--name", "tally", "--id", "abc"), 2, "not both");
	});
});

describe("fleet commands", () => {
	test("actors by name + key as a table and as JSON; the whole fleet without filters", async () => {
		const { id, key } = await freshActor("tally", "cli-list");
		const table = await inspectOut("actors", "--name", "tally", "--key", key);
		expect(table.split("\n")[0]).toMatch(/^NAME\s+KEY\s+ID\s+STATUS\s+POOL\s+CREATED$/);
		expect(table).toMatch(new RegExp(`tally\\s+${key}\\s+${id}\\s+\\w+\\s+${fixturePool()}`));
		expect(await inspectJson("actors", "--id", id)).toMatchObject({ actors: [{ actor_id: id, key }] });
		expect(await inspectOut("actors", "--limit", "500")).toContain(id);
	});

	test("names, create and get-or-create", async () => {
		expect(await inspectOut("names")).toMatch(/tally\s+Tally\s+hashtag/);
		const key = uniqueKey("cli-create");
		expect(await inspectOut("create", "tally", "--key", key)).toContain(key);
		const again = await inspectOut("get-or-create", "tally", key);
		expect(again).toContain("(already existed)");
		// Engine 2.3.19 answers a taken key with duplicate_key or, racing, destroyed_during_creation.
		const taken = await inspect("create", "tally", "--key", key);
		expectOneLineFailure(taken, 1, "actor.");
		expect(taken.stderr).toMatch(/actor\.(duplicate_key|destroyed_during_creation)/);
		expectOneLineFailure(await inspect("create", "nosuchactor"), 1, 'no actor named "nosuchactor" is registered');
	});

	test("kv reads the inspector token at base64:Aw==", async () => {
		const { id, key } = await freshActor("tally", "cli-kv");
		const token = await readInspectorToken(testEngine(), id);
		expect((await inspectOut("kv", "tally", key, "base64:Aw==")).trim()).toBe(token);
	});
});

describe("runner commands", () => {
	test("pools, runner configs and envoys show the app's pool at /api/rivet", async () => {
		const pool = fixturePool();
		const url = `${appUrl()}/api/rivet`;
		expect(await inspectOut("pools")).toMatch(new RegExp(`${pool}\\s+serverless\\s+${url}`));
		expect(await inspectOut("runner-configs", "--pool", pool)).toContain(url);
		expect(await inspectJson("runners", "--pool", pool)).toMatchObject({ runners: [] });
	});

	test("health-check passes against the app and fails with the engine's reason against a dead URL", async () => {
		const ok = await inspect("health-check", `${appUrl()}/api/rivet`);
		expect(ok).toMatchObject({ code: 0, stdout: expect.stringContaining("version 2.3.19") });
		const dead = `http://127.0.0.1:${await freePort()}/api/rivet`;
		expectOneLineFailure(await inspect("health-check", dead), 1, "failed to reach serverless endpoint");
	});
});

describe("one actor", () => {
	test("summary, state set, call, rpcs: what a debugging session looks like", async () => {
		const { key } = await freshActor("tally", "cli-actor");
		expect((await inspectOut("call", "tally", key, "increment", "5")).trim()).toBe("5");
		const summary = await inspectOut("summary", "tally", key);
		expect(summary).toMatch(/^state:\s+\{"count":5,/m);
		expect(summary).toMatch(/^actions:\s+fireTimer, getCount, increment/m);
		await inspect("state", "set", "tally", key, '{"count":10,"timers":{},"recentRequests":[]}');
		expect(await inspectJson("gateway", "call", "tally", key, "increment", "1")).toEqual({ output: 11 });
		expect(await inspectJson("state", "get", "tally", key)).toMatchObject({ count: 11 });
		expect((await inspectOut("rpcs", "tally", key)).split("\n")).toContain("listTimers");
	});

	test("queue, db, traces, metrics and workflow on a tally", async () => {
		const { key } = await freshActor("tally", "cli-misc");
		expect(await inspectOut("queue", "send", "tally", key, "audit", '{"n":1}')).toContain('on "audit"');
		expect(await inspectOut("queue", "tally", key)).toMatch(/^1 pending/);
		expect(await inspectOut("db", "schema", "tally", key)).toContain("no tables of its own");
		expect(await inspectOut("db", "schema", "tally", key, "--all")).toContain("_rivet_actor");
		expect(await inspectOut("db", "sql", "tally", key, "SELECT ? AS answer", "42")).toMatch(/^answer\n42$/m);
		expect(await inspectOut("traces", "tally", key)).toContain("stub");
		expectOneLineFailure(await inspect("metrics", "tally", key), 1, "no inspector/metrics route");
		expect(await inspectOut("workflow", "history", "tally", key)).toContain("no workflow");
		expect(await inspectOut("gateway", "health", "tally", key)).toContain(": ok");
		expect(await inspectJson("gateway", "metadata", "tally", key)).toMatchObject({ runtime: "rivetkit" });
	});

	test("failures: unknown actor, bad inspector token, engine unreachable", async () => {
		expectOneLineFailure(await inspect("summary", "tally", uniqueKey("ghost")), 1, 'no "tally" actor with key');
		const { id } = await freshActor("tally", "cli-badtoken");
		expectOneLineFailure(
			await inspect("summary", "--id", id, "--inspector-token", "wrong"),
			1,
			"inspector.unauthorized",
		);
		const dead = `http://127.0.0.1:${await freePort()}`;
		expectOneLineFailure(await inspect("names", "--endpoint", dead), 1, `cannot reach the engine at ${dead}`);
	});
});

/** Runs `npm run -s inspect -- <args>` as a user would. */
function npmInspect(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve) => {
		const child = spawn("npm", ["run", "-s", "inspect", "--", ...args], {
			cwd: PROJECT_ROOT,
			env: { ...process.env, RIVET_ENDPOINT: fixtureEngineUrl() },
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d: Buffer) => {
			stdout += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			stderr += d.toString();
		});
		child.once("exit", (code) => resolve({ code, stdout, stderr }));
	});
}

describe("through npm", () => {
	test("npm run -s inspect prints JSON on success and exits 1 with one line on failure", async () => {
		const ok = await npmInspect(["names", "--json"]);
		expect(ok.code).toBe(0);
		expect(JSON.parse(ok.stdout)).toContainEqual({ name: "tally", metadata: { name: "Tally", icon: "hashtag" } });
		const failed = await npmInspect(["summary", "tally", uniqueKey("ghost")]);
		expect(failed.code).toBe(1);
		expect(failed.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^inspect: no "tally" actor with key/)]);
	});
});
