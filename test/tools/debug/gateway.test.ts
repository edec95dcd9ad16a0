// An actor's public gateway routes through the debug client: health,
// metadata, actions, queue sends and onRequest forwarding.

import { describe, expect, test } from "vitest";
import { RivetApiError } from "../../../tools/debug/errors.ts";
import {
	gatewayAction,
	gatewayHealth,
	gatewayMetadata,
	gatewayRequest,
	gatewaySendQueue,
} from "../../../tools/debug/gateway.ts";
import { ActorInspector } from "../../../tools/debug/inspector.ts";
import { freshActor, testEngine } from "./support.ts";

/** A well-formed id of an actor that lives on another engine, never this one. */
const GHOST_ID = "5z1ov5d66vpcao48tm3y2sbspcdl00";

describe("gateway", () => {
	test("health wakes the actor and answers ok; metadata names the runtime", async () => {
		const { id } = await freshActor("tally", "gw-health");
		expect(await gatewayHealth(testEngine(), id)).toBe("ok");
		expect(await gatewayMetadata(testEngine(), id)).toMatchObject({ runtime: "rivetkit", version: "2.3.19" });
	});

	test("actions run as a client's would; a UserError arrives typed", async () => {
		const { id } = await freshActor("tally", "gw-action");
		expect(await gatewayAction(testEngine(), id, "increment", [4])).toBe(4);
		expect(await gatewayAction(testEngine(), id, "getCount")).toBe(4);
		const error = await gatewayAction(testEngine(), id, "increment", [0.5]).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RivetApiError);
		// rivetkit 2.3.19 answers UserErrors over the gateway with HTTP 500.
		expect(error).toMatchObject({ status: 500, group: "user", code: "invalid_input" });
		const missing = await gatewayAction(testEngine(), id, "noSuchAction").catch((e: unknown) => e);
		expect(missing).toMatchObject({ status: 404, group: "actor", code: "action_not_found" });
	});

	test("an unknown actor id is the engine's actor.not_found", async () => {
		const error = await gatewayHealth(testEngine(), GHOST_ID).catch((e: unknown) => e);
		expect(error).toMatchObject({ status: 404, group: "actor", code: "not_found" });
	});

	test("a queue message to a name the tally does not declare is accepted and dropped", async () => {
		const { id } = await freshActor("tally", "gw-queue");
		expect(await gatewaySendQueue(testEngine(), id, "jobs", { n: 1 })).toEqual({ status: "completed" });
		expect(await gatewaySendQueue(testEngine(), id, "jobs", { n: 1 }, { wait: true, timeoutMs: 1_000 })).toEqual({
			status: "completed",
		});
		// rivetkit 2.3.19 keeps only messages for declared queues.
		expect((await new ActorInspector(testEngine(), id).queue()).size).toBe(0);
	});

	test("requests are forwarded to onRequest; the tally has none, so its answer is a bare 404", async () => {
		const { id } = await freshActor("tally", "gw-request");
		const res = await gatewayRequest(testEngine(), id, "/anything?x=1", { method: "POST", body: "hi" });
		expect(res.status).toBe(404);
		expect(await res.text()).toBe("");
	});
});
