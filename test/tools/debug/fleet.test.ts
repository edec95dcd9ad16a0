// The inspector on richer fixture actors (test/fixtures/actors/): a
// notebook's live connections and SQLite table, and a pipeline's
// queue and durable workflow.

import { describe, expect, test } from "vitest";
import { EngineUnreachableError, WorkflowInFlightError } from "../../../tools/debug/errors.ts";
import { gatewayAction, gatewaySendQueue } from "../../../tools/debug/gateway.ts";
import { ActorInspector } from "../../../tools/debug/inspector.ts";
import { describeWorkflowHistory } from "../../../tools/debug/workflow-history.ts";
import { fixtureClient } from "../../support.ts";
import { freshActor, inspect, inspectOut, testEngine } from "./support.ts";

/** A task that keeps a pipeline busy for a moment: 5 workflow steps of 300 ms each. */
/**
 * A task of 5 stages of `stageMs` each. The first task of the busy test takes
 * 10 s, so the poll that sees all three queued has time even on a loaded
 * machine (it can only match while the first one runs).
 */
function slowTask(taskId: string, stageMs = 300) {
	return { taskId, stages: 5, stageMs };
}

describe("notebook", () => {
	test("connections list a live connection with its params, until it closes", async () => {
		const { id, key } = await freshActor("notebook", "insp-conn");
		const conn = fixtureClient()
			.notebook.getOrCreate([key], { params: { author: "ann" } })
			.connect();
		// An action on the connection proves it is open.
		await conn.write("hello");
		const inspector = new ActorInspector(testEngine(), id);

		await expect
			.poll(() => inspector.connections())
			.toEqual([
				expect.objectContaining({
					details: expect.objectContaining({ params: { author: "ann" }, state: { author: "ann", live: true } }),
				}),
			]);
		const cli = await inspectOut("connections", "notebook", key);
		expect(cli).toMatch(/\{"author":"ann"\}\s+\{"author":"ann","live":true\}/);

		await conn.dispose();
		await expect.poll(() => inspector.connections()).toEqual([]);
	});

	test("the schema lists the migrated notes table, rows page through it, execute runs a parameterised SELECT", async () => {
		const { id, key } = await freshActor("notebook", "insp-db");
		for (const [author, text] of [
			["ann", "a1"],
			["bob", "b1"],
			["ann", "a2"],
			["bob", "b2"],
			["ann", "a3"],
		]) {
			await gatewayAction(testEngine(), id, "write", [text], { params: { author } });
		}
		const inspector = new ActorInspector(testEngine(), id);

		const notes = (await inspector.databaseSchema()).find((t) => t.table.name === "notes");
		expect(notes).toMatchObject({ table: { type: "table" }, records: 5 });
		expect(notes?.columns.map((c) => c.name)).toEqual(["id", "author", "text", "created_at", "request_id"]);
		expect(await inspectOut("db", "schema", "notebook", key)).toMatch(/^notes\s+table\s+5\s+id INTEGER pk/m);

		const page = async (offset: number) => (await inspector.rows("notes", { limit: 2, offset })).map((row) => row.text);
		expect(await page(0)).toEqual(["a1", "b1"]);
		expect(await page(2)).toEqual(["a2", "b2"]);
		expect(await page(4)).toEqual(["a3"]);

		expect(await inspector.execute("SELECT text FROM notes WHERE author = ? ORDER BY id", { args: ["bob"] })).toEqual([
			{ text: "b1" },
			{ text: "b2" },
		]);
		expect(
			await inspector.execute("SELECT count(*) AS n FROM notes WHERE author = :author AND id > :after", {
				properties: { author: "ann", after: 1 },
			}),
		).toEqual([{ n: 2 }]);
	});
});

describe("pipeline", () => {
	test("queue status shows pending tasks while the pipeline is busy; the history names the workflow's steps", async () => {
		const { id, key } = await freshActor("pipeline", "insp-busy");
		for (const [taskId, stageMs] of [
			["t1", 2_000],
			["t2", 300],
			["t3", 300],
		] as const) {
			expect(await gatewaySendQueue(testEngine(), id, "tasks", slowTask(taskId, stageMs))).toEqual({
				status: "completed",
			});
		}
		const inspector = new ActorInspector(testEngine(), id);

		// Messages leave the queue when the workflow completes them, so while it
		// works on the first task, all three are listed.
		await expect
			.poll(async () => {
				const [queue, summary] = await Promise.all([inspector.queue(), inspector.summary()]);
				const current = (summary.state as { current: unknown }).current;
				return { size: queue.size, names: queue.messages.map((m) => m.name), busy: current !== null };
			})
			.toEqual({ size: 3, names: ["tasks", "tasks", "tasks"], busy: true });
		expect(await inspectOut("queue", "pipeline", key)).toMatch(/^\d pending \(max 1000\)/);

		await expect.poll(() => inspector.queue().then((q) => q.size), { timeout: 45_000 }).toBe(0);
		const { history, workflowState, isWorkflowEnabled } = await inspector.workflowHistory();
		expect(isWorkflowEnabled).toBe(true);
		// The loop waits for the next task.
		expect(["running", "sleeping", "pending"]).toContain(workflowState);
		const entries = history ? describeWorkflowHistory(history) : [];
		const steps = entries.filter((e) => e.kind === "step");
		expect(new Set(steps.map((e) => e.name))).toEqual(
			new Set(["lookup", "finish", ...Array.from({ length: 5 }, (_, i) => `stage-${i}`)]),
		);
		expect(steps.map((e) => e.path)).toEqual(expect.arrayContaining(["tasks[0]/finish", "tasks[2]/finish"]));
		expect(steps.every((e) => e.status === "COMPLETED")).toBe(true);
		expect(await inspectOut("workflow", "history", "pipeline", key)).toMatch(
			/^tasks\[1\]\/stage-4\s+step\s+COMPLETED/m,
		);
	});

	test("replaying the looping pipeline's workflow is refused with a clear 409", async () => {
		const { id, key } = await freshActor("pipeline", "insp-replay");
		await gatewayAction(testEngine(), id, "status");
		const inspector = new ActorInspector(testEngine(), id);

		// The refusal comes before the actor reads the request's body, and the
		// engine sometimes drops the connection when an unread body is cancelled
		// (about 1 in 10 with TCP_NODELAY on the envoy socket: src/workarounds/envoy-nodelay.ts).
		// A refused replay changes nothing, so a dropped one is sent again.
		const dropped = (e: unknown) => e instanceof EngineUnreachableError && e.reason === "UND_ERR_SOCKET";
		let error: unknown;
		for (let attempt = 1; attempt <= 3 && (attempt === 1 || dropped(error)); attempt++) {
			error = await inspector.replayWorkflow().catch((e: unknown) => e);
		}
		expect(error).toBeInstanceOf(WorkflowInFlightError);
		expect(error).toMatchObject({ status: 409, group: "actor", code: "workflow_in_flight" });
		expect((error as WorkflowInFlightError).hint).toContain("loops forever");

		let cli = await inspect("workflow", "replay", "pipeline", key);
		for (let attempt = 2; attempt <= 3 && cli.stderr.includes("(UND_ERR_SOCKET)"); attempt++) {
			cli = await inspect("workflow", "replay", "pipeline", key);
		}
		expect(cli.code).toBe(1);
		expect(cli.stderr).toMatch(/^inspect: workflow is in flight: actor\.workflow_in_flight: /);
	});
});
