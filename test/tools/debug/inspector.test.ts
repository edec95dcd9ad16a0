// A tally's inspector (a fixture actor, test/fixtures/actors/) through the debug client: what each route shows,
// what it changes, and that every route refuses a wrong or foreign token.

import { describe, expect, test } from "vitest";
import { RivetApiError, UnsupportedEndpointError } from "../../../tools/debug/errors.ts";
import { gatewayAction } from "../../../tools/debug/gateway.ts";
import {
	ActorInspector,
	INTERNAL_TABLE_PREFIX,
	readInspectorToken,
	TRACES_STUB_NOTE,
} from "../../../tools/debug/inspector.ts";
import { fixtureAppUrl, fixtureEngineUrl, fixturePool, uniqueKey } from "../../support.ts";
import { freshActor, testEngine } from "./support.ts";

async function tallyInspector(prefix: string): Promise<ActorInspector> {
	const { id } = await freshActor("tally", prefix);
	return new ActorInspector(testEngine(), id);
}

describe("state and actions", () => {
	test("the summary shows the count after increment, the actions, and no workflow", async () => {
		const inspector = await tallyInspector("summary");
		await gatewayAction(testEngine(), inspector.actorId, "increment", [5]);
		const summary = await inspector.summary();
		expect(summary).toMatchObject({
			state: { count: 5 },
			connections: [],
			queueSize: 0,
			isStateEnabled: true,
			isWorkflowEnabled: false,
			workflowState: null,
			workflowHistory: null,
		});
		expect(summary.rpcs).toEqual(["fireTimer", "getCount", "increment", "incrementLater", "listTimers"]);
		expect(await inspector.rpcs()).toEqual(summary.rpcs);
	});

	test("a state patch is what the next action sees", async () => {
		const inspector = await tallyInspector("patch");
		await inspector.patchState({ count: 40, timers: {}, recentRequests: [] });
		expect(await inspector.state()).toEqual({
			state: { count: 40, timers: {}, recentRequests: [] },
			isStateEnabled: true,
		});
		expect(await gatewayAction(testEngine(), inspector.actorId, "increment", [2])).toBe(42);
	});

	test("actions run through the inspector, and their UserErrors arrive typed (400 here)", async () => {
		const inspector = await tallyInspector("action");
		expect(await inspector.callAction("increment", { args: [3] })).toBe(3);
		expect(await inspector.callAction("getCount")).toBe(3);
		const error = await inspector.callAction("increment", { args: [-1] }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RivetApiError);
		expect(error).toMatchObject({ status: 400, group: "user", code: "invalid_input" });
		expect(await inspector.callAction("getCount")).toBe(3);
	});
});

describe("queue", () => {
	test("messages sent through the inspector are listed until cleared", async () => {
		const inspector = await tallyInspector("queue");
		const sent = await inspector.sendQueue("audit", { note: "hello" });
		expect(sent).toMatchObject({ id: expect.any(String), name: "audit" });
		await inspector.sendQueue("audit", { note: "again" });
		const status = await inspector.queue({ limit: 1 });
		expect(status).toMatchObject({ size: 2, maxSize: 1000, truncated: true });
		expect(status.messages).toEqual([{ id: sent.id, name: "audit", createdAtMs: sent.createdAtMs }]);
		expect((await inspector.summary()).queueSize).toBe(2);
		await inspector.clearQueue();
		expect(await inspector.queue()).toMatchObject({ size: 0, messages: [] });
	});
});

describe("database", () => {
	test("an actor without its own tables shows only rivetkit's, and SQL runs with args or properties", async () => {
		const inspector = await tallyInspector("db");
		const tables = await inspector.databaseSchema();
		expect(tables.length).toBeGreaterThan(0);
		expect(tables.every((t) => t.table.name.startsWith(INTERNAL_TABLE_PREFIX))).toBe(true);
		expect(await inspector.execute("SELECT ? AS a, ? AS b", { args: [1, "x"] })).toEqual([{ a: 1, b: "x" }]);
		expect(await inspector.execute("SELECT :n * 2 AS twice", { properties: { n: 21 } })).toEqual([{ twice: 42 }]);
		expect(await inspector.rows("_rivet_actor", { limit: 1 })).toHaveLength(1);
	});

	test("bad SQL and bad paging are errors, not crashes", async () => {
		const inspector = await tallyInspector("db-bad");
		const error = await inspector.execute("SELEC 1").catch((e: unknown) => e);
		expect(error).toMatchObject({ status: 500, group: "core", code: "internal_error" });
		expect(JSON.stringify((error as RivetApiError).metadata)).toContain("syntax error");
		await expect(inspector.rows("_rivet_actor", { limit: 501 })).rejects.toThrow(/limit/);
		await expect(inspector.execute("  ")).rejects.toThrow(/sql is required/);
	});
});

describe("routes 2.3.19 does not really serve", () => {
	test("traces are an empty stub, metrics a clear UnsupportedEndpointError, workflow routes say there is none", async () => {
		const inspector = await tallyInspector("stubs");
		expect(await inspector.traces()).toEqual({ otlp: [], clamped: false });
		expect(TRACES_STUB_NOTE).toContain("stub");
		const error = await inspector.metrics().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(UnsupportedEndpointError);
		expect(String(error)).toContain("/api/rivet/metrics");
		expect(await inspector.workflowHistory()).toEqual({ history: null, workflowState: null, isWorkflowEnabled: false });
	});
});

describe("inspector auth", () => {
	test("a wrong token and another actor's token get 401 on every route, and change nothing", async () => {
		const target = await tallyInspector("auth");
		const other = await freshActor("tally", "auth-other");
		await target.callAction("increment", { args: [7] });
		const foreignToken = await readInspectorToken(testEngine(), other.id);

		for (const token of ["wrong-token", foreignToken]) {
			const intruder = new ActorInspector(testEngine(), target.actorId, { token });
			const attempts: Array<[string, () => Promise<unknown>]> = [
				["summary", () => intruder.summary()],
				["state", () => intruder.state()],
				["patchState", () => intruder.patchState({ count: 0, timers: {}, recentRequests: [] })],
				["connections", () => intruder.connections()],
				["rpcs", () => intruder.rpcs()],
				["callAction", () => intruder.callAction("increment", { args: [1] })],
				["queue", () => intruder.queue()],
				["sendQueue", () => intruder.sendQueue("audit", {})],
				["clearQueue", () => intruder.clearQueue()],
				["traces", () => intruder.traces()],
				["metrics", () => intruder.metrics()],
				["workflowHistory", () => intruder.workflowHistory()],
				["replayWorkflow", () => intruder.replayWorkflow()],
				["databaseSchema", () => intruder.databaseSchema()],
				["rows", () => intruder.rows("_rivet_actor")],
				["execute", () => intruder.execute("SELECT 1")],
			];
			for (const [route, attempt] of attempts) {
				const error = await attempt().catch((e: unknown) => e);
				expect(error, route).toMatchObject({ status: 401, group: "inspector", code: "unauthorized" });
			}
		}
		expect(await target.summary()).toMatchObject({ state: { count: 7 }, queueSize: 0 });
	});
});

// Rivet's debugging guide (rivet.dev/docs/actors/debugging) walked in its own
// order with the requests its curl lines send, against the fixture stack's
// engine (local: no engine token). Each step is one check, so a step that
// stops working on a rivetkit or engine upgrade names itself. The guide's
// action call on a product actor, which authenticates its callers, is checked
// in test/actors/authorization.test.ts (it runs as the `inspector` principal).
describe("Rivet's debugging guide, step by step", () => {
	test("management, runner, gateway and inspector steps all answer as the guide says", async () => {
		const api = fixtureEngineUrl();
		const ns = "namespace=default";
		const pool = fixturePool();
		const json = async (res: Response, step: string): Promise<Record<string, unknown>> => {
			expect({ step, status: res.status }).toEqual({ step, status: 200 });
			return (await res.json()) as Record<string, unknown>;
		};
		const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
			fetch(`${api}${path}`, {
				method,
				headers: { "content-type": "application/json", ...headers },
				...(body === undefined ? {} : { body: JSON.stringify(body) }),
			});

		// Management API: list names, create or get, look up by key and by id, create.
		const names = await json(await send("GET", `/actors/names?${ns}`), "list actor names");
		expect(Object.keys(names.names as object)).toContain("tally");
		const key = JSON.stringify([uniqueKey("guide")]);
		const actorBody = { name: "tally", key, runner_name_selector: pool, crash_policy: "restart" };
		const created = await json(await send("PUT", `/actors?${ns}`, actorBody), "create or get actor");
		const actorId = (created.actor as { actor_id: string }).actor_id;
		const again = await json(await send("PUT", `/actors?${ns}`, actorBody), "create or get, again");
		expect((again.actor as { actor_id: string }).actor_id).toBe(actorId);
		const byKey = await json(
			await send("GET", `/actors?name=tally&key=${encodeURIComponent(key)}&${ns}`),
			"look up by key",
		);
		expect(byKey.actors).toEqual([expect.objectContaining({ actor_id: actorId, name: "tally", key })]);
		const byId = await json(await send("GET", `/actors?actor_ids=${actorId}&${ns}`), "list by ids");
		expect(byId.actors).toEqual([expect.objectContaining({ actor_id: actorId })]);
		const other = await json(
			await send("POST", `/actors?${ns}`, { ...actorBody, key: JSON.stringify([uniqueKey("guide-new")]) }),
			"create actor",
		);
		expect((other.actor as { actor_id: string }).actor_id).not.toBe(actorId);

		// Runner API: pool names, the pool's runners, its provider config, a health check, a metadata refresh.
		// With rivetkit 2.3.19 the pool's servers are envoys: the guide's runner lists answer, but empty
		// (`npm run inspect -- runners` reads `/envoys` as well; tools/debug/runners.ts), as docs/debugging.md says.
		expect((await json(await send("GET", `/runners/names?${ns}`), "runner names")).names).toEqual([]);
		const runners = await json(
			await send("GET", `/runners?${ns}&name=${pool}&include_stopped=true&limit=100`),
			"runners in a pool",
		);
		expect(runners.runners).toEqual([]);
		const configs = await json(await send("GET", `/runner-configs?${ns}&runner_name=${pool}`), "runner config");
		const serverless = Object.values(
			(configs.runner_configs as Record<string, { datacenters: Record<string, { serverless?: { url: string } }> }>)[
				pool
			]?.datacenters ?? {},
		).map((dc) => dc.serverless?.url);
		expect(serverless).toContain(`${fixtureAppUrl()}/api/rivet`);
		const health = await json(
			await send("POST", `/runner-configs/serverless-health-check?${ns}`, {
				url: `${fixtureAppUrl()}/api/rivet`,
				headers: {},
			}),
			"serverless health check",
		);
		expect(health).toEqual({ success: { version: expect.any(String) } });
		await json(await send("POST", `/runner-configs/${pool}/refresh-metadata?${ns}`, {}), "refresh metadata");

		// Standard actor endpoints through the gateway.
		expect((await send("GET", `/gateway/${actorId}/health`)).status).toBe(200);
		await json(await send("GET", `/gateway/${actorId}/metadata`), "actor metadata");
		expect(await json(await send("POST", `/gateway/${actorId}/action/increment`, { args: [40] }), "action")).toEqual({
			output: 40,
		});
		// The guide's queue name: tally declares no queues, so the gateway answers `completed` and keeps nothing.
		expect(
			await json(await send("POST", `/gateway/${actorId}/queue/jobs`, { body: { id: "job-1" } }), "queue send"),
		).toEqual({ status: "completed" });

		// The inspector token: KV key 0x03 (base64 Aw==), its value base64 too.
		// The guide's curl has no `namespace`; engine 2.3.19 refuses that with 400, so it is added here.
		const withoutNamespace = await send("GET", `/actors/${actorId}/kv/keys/Aw==`);
		expect({ status: withoutNamespace.status, body: await withoutNamespace.json() }).toMatchObject({
			status: 400,
			body: { group: "api", code: "bad_request", message: expect.stringContaining("missing field `namespace`") },
		});
		const kv = await json(await send("GET", `/actors/${actorId}/kv/keys/Aw==?${ns}`), "read the inspector token");
		const token = Buffer.from(String(kv.value), "base64").toString("utf8");
		expect(token).toBe(await readInspectorToken(testEngine(), actorId));
		const inspector = (method: string, path: string, body?: unknown) =>
			send(method, `/gateway/${actorId}/inspector/${path}`, body, { authorization: `Bearer ${token}` });
		// Always required, locally too.
		expect((await send("GET", `/gateway/${actorId}/inspector/summary`)).status).toBe(401);

		// Inspector endpoints, in the guide's order.
		expect(await json(await inspector("GET", "state"), "get state")).toMatchObject({
			state: { count: 40 },
			isStateEnabled: true,
		});
		expect(
			await json(
				await inspector("PATCH", "state", { state: { count: 42, timers: {}, recentRequests: [] } }),
				"set state",
			),
		).toEqual({ ok: true });
		expect(await json(await inspector("GET", "connections"), "connections")).toEqual({ connections: [] });
		expect((await json(await inspector("GET", "rpcs"), "rpcs")).rpcs).toContain("increment");
		expect(await json(await inspector("POST", "action/increment", { args: [5] }), "execute action")).toEqual({
			output: 47,
		});
		expect(await json(await inspector("GET", "queue?limit=10"), "queue status")).toMatchObject({
			size: 0,
			messages: [],
		});
		expect(await json(await inspector("GET", "workflow-history"), "workflow history")).toMatchObject({
			history: null,
			isWorkflowEnabled: false,
		});
		const schema = await json(await inspector("GET", "database/schema"), "database schema");
		const tables = (schema.schema as { tables: Array<{ table: { name: string } }> }).tables.map((t) => t.table.name);
		expect(tables.length).toBeGreaterThan(0);
		await json(
			await inspector("GET", `database/rows?table=${encodeURIComponent(tables[0] ?? "")}&limit=100&offset=0`),
			"rows",
		);
		expect(
			await json(await inspector("POST", "database/execute", { sql: "SELECT ? AS v", args: ["alpha"] }), "execute SQL"),
		).toEqual({ rows: [{ v: "alpha" }] });
		expect(
			await json(
				await inspector("POST", "database/execute", { sql: "SELECT :value AS v", properties: { value: "alpha" } }),
				"execute SQL with properties",
			),
		).toEqual({ rows: [{ v: "alpha" }] });
		expect(await json(await inspector("GET", "summary"), "summary")).toMatchObject({
			state: { count: 47 },
			connections: [],
			queueSize: 0,
			isStateEnabled: true,
			isWorkflowEnabled: false,
		});
	});
});
