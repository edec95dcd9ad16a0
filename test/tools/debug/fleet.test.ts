// The inspector on the fleet's richer actors: a chat room's live connections
// and SQLite messages, a worker's queue and durable workflow.

import { describe, expect, test } from "vitest";
import { WorkflowInFlightError } from "../../../tools/debug/errors.ts";
import { gatewayAction, gatewaySendQueue } from "../../../tools/debug/gateway.ts";
import { ActorInspector } from "../../../tools/debug/inspector.ts";
import { describeWorkflowHistory } from "../../../tools/debug/workflow-history.ts";
import { testClient } from "../../support.ts";
import { freshActor, inspect, testEngine } from "./support.ts";

/** A job that keeps a worker busy for a moment: 5 workflow steps of hashing (50 000 rounds each). */
function hashJob(jobId: string) {
	return { jobId, kind: "sha256", input: { text: jobId, rounds: 250_000 } };
}

describe("chatRoom", () => {
	test("connections list a live chat connection with its params, until it closes", async () => {
		const { id, key } = await freshActor("chatRoom", "insp-conn");
		const conn = testClient()
			.chatRoom.getOrCreate([key], { params: { username: "ann" } })
			.connect();
		// An action on the connection proves it is open.
		await conn.postMessage("hello");
		const inspector = new ActorInspector(testEngine(), id);

		await expect
			.poll(() => inspector.connections())
			.toEqual([
				expect.objectContaining({
					details: expect.objectContaining({ params: { username: "ann" }, state: { username: "ann", live: true } }),
				}),
			]);
		const cli = await inspect("connections", "chatRoom", key);
		expect(cli.stdout).toMatch(/\{"username":"ann"\}\s+\{"username":"ann","live":true\}/);

		await conn.dispose();
		await expect.poll(() => inspector.connections()).toEqual([]);
	});

	test("the schema lists the messages table, rows page through it, execute runs a parameterised SELECT", async () => {
		const { id, key } = await freshActor("chatRoom", "insp-db");
		for (const [username, text] of [
			["ann", "a1"],
			["bob", "b1"],
			["ann", "a2"],
			["bob", "b2"],
			["ann", "a3"],
		]) {
			await gatewayAction(testEngine(), id, "postMessage", [text], { params: { username } });
		}
		const inspector = new ActorInspector(testEngine(), id);

		const messages = (await inspector.databaseSchema()).find((t) => t.table.name === "messages");
		expect(messages).toMatchObject({ table: { type: "table" }, records: 5 });
		expect(messages?.columns.map((c) => c.name)).toEqual(["id", "username", "text", "created_at", "request_id"]);
		expect((await inspect("db", "schema", "chatRoom", key)).stdout).toMatch(/^messages\s+table\s+5\s+id INTEGER pk/m);

		const page = async (offset: number) =>
			(await inspector.rows("messages", { limit: 2, offset })).map((row) => row.text);
		expect(await page(0)).toEqual(["a1", "b1"]);
		expect(await page(2)).toEqual(["a2", "b2"]);
		expect(await page(4)).toEqual(["a3"]);

		expect(
			await inspector.execute("SELECT text FROM messages WHERE username = ? ORDER BY id", { args: ["bob"] }),
		).toEqual([{ text: "b1" }, { text: "b2" }]);
		expect(
			await inspector.execute("SELECT count(*) AS n FROM messages WHERE username = :user AND id > :after", {
				properties: { user: "ann", after: 1 },
			}),
		).toEqual([{ n: 2 }]);
	});
});

describe("worker", () => {
	test("queue status shows pending jobs while the worker is busy; the history names the workflow's steps", async () => {
		const { id, key } = await freshActor("worker", "insp-busy");
		for (const jobId of ["j1", "j2", "j3"]) {
			expect(await gatewaySendQueue(testEngine(), id, "jobs", hashJob(jobId))).toEqual({ status: "completed" });
		}
		const inspector = new ActorInspector(testEngine(), id);

		// Messages leave the queue when the worker completes them, so while it
		// works on the first job, all three are listed.
		await expect
			.poll(async () => {
				const [queue, summary] = await Promise.all([inspector.queue(), inspector.summary()]);
				const current = (summary.state as { current: unknown }).current;
				return { size: queue.size, names: queue.messages.map((m) => m.name), busy: current !== null };
			})
			.toEqual({ size: 3, names: ["jobs", "jobs", "jobs"], busy: true });
		expect((await inspect("queue", "worker", key)).stdout).toMatch(/^\d pending \(max 1000\)/);

		await expect.poll(() => inspector.queue().then((q) => q.size), { timeout: 45_000 }).toBe(0);
		const { history, workflowState, isWorkflowEnabled } = await inspector.workflowHistory();
		expect(isWorkflowEnabled).toBe(true);
		// The loop waits for the next job.
		expect(["running", "sleeping", "pending"]).toContain(workflowState);
		const entries = history ? describeWorkflowHistory(history) : [];
		const steps = entries.filter((e) => e.kind === "step");
		expect(new Set(steps.map((e) => e.name))).toEqual(
			new Set(["lookup", "validate", "store", ...Array.from({ length: 5 }, (_, i) => `chunk-${i}`)]),
		);
		expect(steps.map((e) => e.path)).toEqual(expect.arrayContaining(["jobs[0]/store", "jobs[2]/store"]));
		expect(steps.every((e) => e.status === "COMPLETED")).toBe(true);
		expect((await inspect("workflow", "history", "worker", key)).stdout).toMatch(
			/^jobs\[1\]\/chunk-4\s+step\s+COMPLETED/m,
		);
	});

	test("replaying the looping worker's workflow is refused with a clear 409", async () => {
		const { id, key } = await freshActor("worker", "insp-replay");
		await gatewayAction(testEngine(), id, "status");
		const inspector = new ActorInspector(testEngine(), id);

		const error = await inspector.replayWorkflow().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(WorkflowInFlightError);
		expect(error).toMatchObject({ status: 409, group: "actor", code: "workflow_in_flight" });
		expect((error as WorkflowInFlightError).hint).toContain("loops forever");

		const cli = await inspect("workflow", "replay", "worker", key);
		expect(cli.code).toBe(1);
		expect(cli.stderr).toMatch(/^inspect: workflow is in flight: actor\.workflow_in_flight: /);
	});
});
