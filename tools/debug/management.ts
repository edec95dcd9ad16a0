// The engine's management API: actors, actor names and actor KV.
//
// Routes (all `?namespace=`, Bearer engine token when one is configured):
//   GET  /actors?name=&key= | ?actor_ids=   list (one page)
//   POST /actors                            create
//   PUT  /actors                            get-or-create by name + key
//   DELETE /actors/{id}                     destroy
//   GET  /actors/names                      names the app has registered
//   GET  /actors/{id}/kv/keys/{base64 key}  one KV value (base64)
// Bodies are parsed with loose zod objects: the fields this client relies on
// are typed and checked, and anything newer the engine adds passes through.

import { z } from "zod";
import type { EngineConfig } from "./config.ts";
import { ActorNotFoundError, DebugInputError, RivetApiError } from "./errors.ts";
import { requestJson } from "./http.ts";
import { type ActorKeyInput, assertActorId, serializeActorKey } from "./keys.ts";

/** The engine refuses more ids than this in one list call. */
export const MAX_IDS_PER_LIST = 32;

const timestamp = z.number().nullable().optional();

export const actorSchema = z.looseObject({
	actor_id: z.string(),
	name: z.string(),
	/** The serialised key (see `keys.ts`); `null` for actors created without one. */
	key: z.string().nullable(),
	namespace_id: z.string(),
	datacenter: z.string().optional(),
	runner_name_selector: z.string(),
	crash_policy: z.string().optional(),
	create_ts: z.number(),
	start_ts: timestamp,
	pending_allocation_ts: timestamp,
	connectable_ts: timestamp,
	sleep_ts: timestamp,
	reschedule_ts: timestamp,
	destroy_ts: timestamp,
	error: z.unknown().optional(),
});
export type Actor = z.infer<typeof actorSchema>;

const paginationSchema = z.looseObject({ cursor: z.string().nullable() });

const actorListSchema = z.looseObject({ actors: z.array(actorSchema), pagination: paginationSchema });
const actorNamesSchema = z.looseObject({
	names: z.record(z.string(), z.looseObject({ metadata: z.record(z.string(), z.unknown()) })),
	pagination: paginationSchema,
});
const createdSchema = z.looseObject({ actor: actorSchema });
const getOrCreateSchema = z.looseObject({ actor: actorSchema, created: z.boolean() });
const kvValueSchema = z.looseObject({ value: z.string().nullable(), update_ts: z.number().optional() });

export interface ListActorsQuery {
	/** Required unless `ids` is given. */
	name?: string | undefined;
	/** Needs `name`. A string is a one-part key; an array is a rivetkit key. */
	key?: ActorKeyInput | undefined;
	/** Not combinable with `name`/`key`. At most 32. */
	ids?: readonly string[] | undefined;
	includeDestroyed?: boolean | undefined;
	limit?: number | undefined;
	cursor?: string | undefined;
}

export interface ActorPage {
	actors: Actor[];
	/** Pass back as `cursor` for the next page; `null` when the engine says there is none. */
	cursor: string | null;
}

/**
 * Checks a list query the way the engine would, but before sending it, so
 * the mistake is reported in this client's words instead of a 400.
 */
export function validateListActorsQuery(query: ListActorsQuery): void {
	const hasIds = query.ids !== undefined && query.ids.length > 0;
	const hasName = query.name !== undefined && query.name !== "";
	const hasKey = query.key !== undefined;
	if (hasIds && (hasName || hasKey)) {
		throw new DebugInputError("list actors either by ids or by name (+ key), not both");
	}
	if (hasKey && !hasName) throw new DebugInputError("a key needs a name: list actors by name + key");
	if (!hasIds && !hasName) throw new DebugInputError("list actors by name, by name + key, or by ids");
	if (hasIds && (query.ids?.length ?? 0) > MAX_IDS_PER_LIST) {
		throw new DebugInputError(`at most ${MAX_IDS_PER_LIST} ids per call`);
	}
	for (const id of query.ids ?? []) assertActorId(id);
	if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1)) {
		throw new DebugInputError("limit must be a positive integer");
	}
}

/** One page of actors by name, by name + key, or by ids. */
export async function listActors(engine: EngineConfig, query: ListActorsQuery): Promise<ActorPage> {
	validateListActorsQuery(query);
	const body = await requestJson(
		engine,
		{
			method: "GET",
			path: "/actors",
			namespaced: true,
			credentials: { kind: "management" },
			query: {
				name: query.name || undefined,
				key: query.key === undefined ? undefined : serializeActorKey(query.key),
				actor_ids: query.ids?.length ? query.ids.join(",") : undefined,
				include_destroyed: query.includeDestroyed || undefined,
				limit: query.limit,
				cursor: query.cursor,
			},
		},
		actorListSchema,
	);
	return { actors: body.actors, cursor: body.pagination.cursor };
}

export interface ActorName {
	name: string;
	/** What the actor's `options` declare, e.g. `{ name: "Counter", icon: "hashtag" }`. */
	metadata: Record<string, unknown>;
}

/** Actor names the app has registered with the engine (through `/metadata`). */
export async function listActorNames(engine: EngineConfig): Promise<ActorName[]> {
	const body = await requestJson(
		engine,
		{ method: "GET", path: "/actors/names", namespaced: true, credentials: { kind: "management" } },
		actorNamesSchema,
	);
	return Object.entries(body.names)
		.map(([name, value]) => ({ name, metadata: value.metadata }))
		.sort((a, b) => a.name.localeCompare(b.name));
}

export interface FleetEntry extends ActorName {
	/** The first page of this name's actors (up to `limitPerName`). */
	actors: Actor[];
	/** Set when more actors exist than were listed. */
	cursor: string | null;
}

/** Default page size per actor name in `listFleet`. */
export const FLEET_PAGE_SIZE = 100;

/**
 * Every registered actor name with its actors: the whole fleet in one call.
 * The engine lists actors per name only, so this is one request per name.
 */
export async function listFleet(
	engine: EngineConfig,
	options: { includeDestroyed?: boolean; limitPerName?: number } = {},
): Promise<FleetEntry[]> {
	const names = await listActorNames(engine);
	const limit = options.limitPerName ?? FLEET_PAGE_SIZE;
	return Promise.all(
		names.map(async (entry) => {
			const page = await listActors(engine, { name: entry.name, includeDestroyed: options.includeDestroyed, limit });
			return { ...entry, actors: page.actors, cursor: page.actors.length >= limit ? page.cursor : null };
		}),
	);
}

/** The actor id for a name + key, or `ActorNotFoundError`. Never creates. */
export async function resolveActorId(engine: EngineConfig, name: string, key: ActorKeyInput): Promise<string> {
	const { actors } = await listActors(engine, { name, key });
	const actor = actors[0];
	if (!actor) throw new ActorNotFoundError(name, serializeActorKey(key), engine.namespace);
	return actor.actor_id;
}

export interface CreateActorOptions {
	name: string;
	key?: ActorKeyInput | undefined;
	/** Runner pool (`runner_name_selector`); defaults to the config's pool. */
	pool?: string | undefined;
	/** What the engine does when the actor crashes; rivetkit's client always uses "sleep". */
	crashPolicy?: "sleep" | "restart" | "destroy" | undefined;
	datacenter?: string | undefined;
}

function actorBody(engine: EngineConfig, options: CreateActorOptions) {
	if (options.name.trim() === "") throw new DebugInputError("an actor name is required");
	return {
		name: options.name,
		key: options.key === undefined ? undefined : serializeActorKey(options.key),
		runner_name_selector: options.pool ?? engine.pool,
		crash_policy: options.crashPolicy ?? "sleep",
		datacenter: options.datacenter,
	};
}

/** Creates a new actor. A key already in use fails with `actor.duplicate_key`. */
export async function createActor(engine: EngineConfig, options: CreateActorOptions): Promise<Actor> {
	const body = await requestJson(
		engine,
		{
			method: "POST",
			path: "/actors",
			namespaced: true,
			credentials: { kind: "management" },
			body: actorBody(engine, options),
		},
		createdSchema,
	);
	return body.actor;
}

/** Returns the actor with this name + key, creating it first if none exists. */
export async function getOrCreateActor(
	engine: EngineConfig,
	options: CreateActorOptions & { key: ActorKeyInput },
): Promise<{ actor: Actor; created: boolean }> {
	return requestJson(
		engine,
		{
			method: "PUT",
			path: "/actors",
			namespaced: true,
			credentials: { kind: "management" },
			body: actorBody(engine, options),
		},
		getOrCreateSchema,
	);
}

/** Destroys an actor and its data. */
export async function destroyActor(engine: EngineConfig, actorId: string): Promise<void> {
	await requestJson(
		engine,
		{
			method: "DELETE",
			path: `/actors/${assertActorId(actorId)}`,
			namespaced: true,
			credentials: { kind: "management" },
		},
		z.unknown(),
	);
}

export interface KvEntry {
	value: Uint8Array;
	/** When the value was last written (epoch ms), if the engine says. */
	updateTs: number | undefined;
}

/**
 * One value from the actor's KV, or `null` when the key does not exist.
 * `key` is raw bytes or a UTF-8 string; the route takes it base64-encoded and
 * returns the value base64-encoded, both handled here.
 *
 * Since actors moved their storage to SQLite this is a frozen compatibility
 * snapshot, except for the inspector token at key `0x03`, which stays mirrored.
 */
export async function readActorKv(
	engine: EngineConfig,
	actorId: string,
	key: Uint8Array | string,
): Promise<KvEntry | null> {
	const keyBytes = typeof key === "string" ? new TextEncoder().encode(key) : key;
	const encodedKey = encodeURIComponent(Buffer.from(keyBytes).toString("base64"));
	try {
		const body = await requestJson(
			engine,
			{
				method: "GET",
				path: `/actors/${assertActorId(actorId)}/kv/keys/${encodedKey}`,
				namespaced: true,
				credentials: { kind: "management" },
			},
			kvValueSchema,
		);
		if (body.value === null) return null;
		return { value: new Uint8Array(Buffer.from(body.value, "base64")), updateTs: body.update_ts };
	} catch (error) {
		if (error instanceof RivetApiError && error.id === "actor.kv_key_not_found") return null;
		throw error;
	}
}
