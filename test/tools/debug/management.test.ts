// The management API through the debug client: listing, names, create,
// get-or-create, KV, and Bearer auth against an engine that requires a token.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolveEngineConfig } from "../../../tools/debug/config.ts";
import { ActorNotFoundError, EngineUnreachableError, RivetApiError } from "../../../tools/debug/errors.ts";
import { gatewayAction } from "../../../tools/debug/gateway.ts";
import { ActorInspector, INSPECTOR_TOKEN_KEY, readInspectorToken } from "../../../tools/debug/inspector.ts";
import {
	createActor,
	getOrCreateActor,
	listActorNames,
	listActors,
	listFleet,
	readActorKv,
	resolveActorId,
} from "../../../tools/debug/management.ts";
import { type RunningEngine, startEngineOnFreePort } from "../../../tools/local/engine.ts";
import { freePort } from "../../../tools/local/ports.ts";
import { fixturePool, uniqueKey } from "../../support.ts";
import { freshActor, inspect, testEngine } from "./support.ts";

describe("actors", () => {
	test("get-or-create returns the same actor for the same key", async () => {
		const { id, key } = await freshActor("tally", "goc");
		const again = await getOrCreateActor(testEngine(), { name: "tally", key });
		expect(again).toMatchObject({ created: false, actor: { actor_id: id, key } });
		expect(again.actor).toMatchObject({ name: "tally", runner_name_selector: fixturePool(), crash_policy: "sleep" });
	});

	test("create refuses a key in use with the engine's typed error, and the key keeps its actor", async () => {
		const { id, key } = await freshActor("tally", "dup");
		const error = await createActor(testEngine(), { name: "tally", key }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RivetApiError);
		expect(error).toMatchObject({ status: 400, group: "actor", request: "POST /actors" });
		// Engine 2.3.19 races two outcomes of the refused create: usually
		// duplicate_key (with the existing actor's id), sometimes
		// destroyed_during_creation. Either way nothing replaced the actor.
		expect(["duplicate_key", "destroyed_during_creation"]).toContain((error as RivetApiError).code);
		expect((await listActors(testEngine(), { name: "tally", key })).actors.map((a) => a.actor_id)).toEqual([id]);
	});

	test("list by name + key, by ids, and by name", async () => {
		const a = await freshActor("tally", "list-a");
		const b = await freshActor("tally", "list-b");
		const engine = testEngine();

		const byKey = await listActors(engine, { name: "tally", key: a.key });
		expect(byKey.actors.map((x) => x.actor_id)).toEqual([a.id]);

		const byIds = await listActors(engine, { ids: [a.id, b.id] });
		expect(byIds.actors.map((x) => x.actor_id).sort()).toEqual([a.id, b.id].sort());

		const byName = await listActors(engine, { name: "tally", limit: 500 });
		expect(byName.actors.map((x) => x.actor_id)).toEqual(expect.arrayContaining([a.id, b.id]));
		expect(byName.actors.every((x) => x.name === "tally")).toBe(true);

		expect(await listActors(engine, { name: "tally", key: uniqueKey("missing") })).toEqual({
			actors: [],
			cursor: null,
		});
	});

	test("compound keys find the actor a rivetkit client created", async () => {
		const parts = ["org", `room/${randomUUID().slice(0, 6)}`];
		const { actor } = await getOrCreateActor(testEngine(), { name: "tally", key: parts });
		expect(await resolveActorId(testEngine(), "tally", parts)).toBe(actor.actor_id);
	});

	test("resolving an unknown name + key is an ActorNotFoundError, and creates nothing", async () => {
		const key = uniqueKey("ghost");
		await expect(resolveActorId(testEngine(), "tally", key)).rejects.toBeInstanceOf(ActorNotFoundError);
		expect((await listActors(testEngine(), { name: "tally", key })).actors).toEqual([]);
	});

	test("names list what the app registered, with the actor's options", async () => {
		const names = await listActorNames(testEngine());
		expect(names).toContainEqual({ name: "tally", metadata: { name: "Tally", icon: "hashtag" } });
	});

	test("the fleet view lists every name with its actors", async () => {
		const { id } = await freshActor("tally", "fleet");
		const fleet = await listFleet(testEngine(), { limitPerName: 500 });
		const tallies = fleet.find((entry) => entry.name === "tally");
		expect(tallies?.actors.map((a) => a.actor_id)).toContain(id);
	});
});

describe("actor KV", () => {
	test("the inspector token at key 0x03 is readable and works as a bearer token", async () => {
		const { id } = await freshActor("tally", "kv");
		// A fresh actor has no token until it first runs; the reader wakes it.
		const token = await readInspectorToken(testEngine(), id);
		expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
		const entry = await readActorKv(testEngine(), id, INSPECTOR_TOKEN_KEY);
		expect(new TextDecoder().decode(entry?.value)).toBe(token);
		expect(await new ActorInspector(testEngine(), id, { token }).rpcs()).toContain("increment");
	});

	test("a missing key reads as null", async () => {
		const { id } = await freshActor("tally", "kv-miss");
		await gatewayAction(testEngine(), id, "increment", [1]);
		expect(await readActorKv(testEngine(), id, "no-such-key")).toBeNull();
	});
});

describe("an engine that requires a token", () => {
	const adminToken = `admin-${randomUUID()}`;
	let engine: RunningEngine;
	let dataDir: string;

	beforeAll(async () => {
		dataDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-auth-"));
		engine = await startEngineOnFreePort({
			dataDir,
			env: { RIVET__AUTH__ADMIN_TOKEN: adminToken },
		});
	});

	/**
	 * A fresh engine answers /health before it has created its default
	 * namespace; until then namespaced calls fail with namespace.not_found.
	 */
	async function defaultNamespaceReady(): Promise<void> {
		const config = resolveEngineConfig({ RIVET_ENDPOINT: engine.url, RIVET_TOKEN: adminToken });
		const ready = () =>
			listActorNames(config).then(
				() => true,
				() => false,
			);
		await expect.poll(ready).toBe(true);
	}

	afterAll(async () => {
		await engine?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	test("management calls send the token as Bearer, from RIVET_TOKEN or the endpoint URL", async () => {
		await defaultNamespaceReady();
		const fromEnv = resolveEngineConfig({ RIVET_ENDPOINT: engine.url, RIVET_TOKEN: adminToken });
		expect(await listActorNames(fromEnv)).toEqual([]);
		const url = new URL(engine.url);
		const fromUrl = resolveEngineConfig({ RIVET_ENDPOINT: `http://default:${adminToken}@${url.host}` });
		expect(await listActors(fromUrl, { name: "tally" })).toEqual({ actors: [], cursor: null });
	});

	test("a missing or wrong token is the engine's 403, as a typed error", async () => {
		await defaultNamespaceReady();
		for (const token of [undefined, "wrong"]) {
			const config = resolveEngineConfig({ RIVET_ENDPOINT: engine.url, RIVET_TOKEN: token });
			const error = await listActorNames(config).catch((e: unknown) => e);
			expect(error).toMatchObject({ status: 403, group: "api", code: "forbidden" });
		}
		const cli = await inspect("names", "--endpoint", engine.url, "--token", "wrong");
		expect(cli.code).toBe(1);
		expect(cli.stderr).toBe("inspect: api.forbidden: Access denied: Invalid token [HTTP 403, GET /actors/names]\n");
	});
});

test("an engine that does not answer is an EngineUnreachableError", async () => {
	const dead = resolveEngineConfig({ RIVET_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
	const error = await listActorNames(dead).catch((e: unknown) => e);
	expect(error).toBeInstanceOf(EngineUnreachableError);
	expect(String(error)).toContain("ECONNREFUSED");
});
