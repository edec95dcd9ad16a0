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
