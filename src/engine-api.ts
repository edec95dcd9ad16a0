// The slice of the engine's management API this server itself calls: the
// actor names the app registered and the actors of each, for `GET /api/fleet`.
// example-actors:start (the README's removal block deletes these lines)
// The example batches also resume through it after an outage
// (src/workarounds/resume-after-outage.ts).
// example-actors:end
//
// Routes (`?namespace=`, `Authorization: Bearer <engine token>` when one is
// configured):
//   GET /actors/names        names the app has registered (through `/metadata`)
//   GET /actors?name=&limit=&cursor= one page of a name's actors, newest first
// Bodies are parsed with loose zod objects: the fields read here are typed
// and checked, and anything newer the engine adds passes through. Every
// failure is an `EngineApiError` whose message names the request and never
// the credentials; callers decide what, if anything, a client sees.
//
// The product keeps only this small client, so the server never loads the
// harness.

import { z } from "zod";
import { type Env, stripCredentials } from "./env.ts";

/** A request slower than this counts as unanswered. */
const ENGINE_REQUEST_TIMEOUT_MS = 10_000;

/** Where the engine is and how to authenticate, without credentials in the URL. */
export interface EngineAccess {
	/** Origin plus any base path, no credentials, no trailing slash. */
	endpoint: string;
	namespace: string;
	token: string | undefined;
}

export function engineAccess(env: Pick<Env, "endpoint" | "namespace" | "token">): EngineAccess {
	return { endpoint: stripCredentials(env.endpoint), namespace: env.namespace, token: env.token };
}

export class EngineApiError extends Error {}

const timestamp = z.number().nullable().optional();

export const engineActorSchema = z.looseObject({
	actor_id: z.string(),
	name: z.string(),
	/** rivetkit joins key parts with `/`; `null` for actors created without a key. */
	key: z.string().nullable(),
	/** The pool (runner name) the actor runs on. */
	runner_name_selector: z.string().optional(),
	create_ts: z.number(),
	connectable_ts: timestamp,
	sleep_ts: timestamp,
	destroy_ts: timestamp,
	error: z.unknown().optional(),
});
export type EngineActor = z.infer<typeof engineActorSchema>;

const paginationSchema = z.looseObject({ cursor: z.string().nullable() });
const actorListSchema = z.looseObject({ actors: z.array(engineActorSchema), pagination: paginationSchema });
const actorNamesSchema = z.looseObject({
	names: z.record(z.string(), z.looseObject({ metadata: z.record(z.string(), z.unknown()) })),
	pagination: paginationSchema,
});

export interface FleetEntry {
	/** The registry name, e.g. `chatRoom`. */
	name: string;
	/** What the actor's `options` declare, e.g. `{ name: "Counter", icon: "hashtag" }`. */
	metadata: Record<string, unknown>;
	/** The first page of this name's actors (up to `limitPerName`). */
	actors: EngineActor[];
	/** Set when more actors exist than were listed. */
	cursor: string | null;
}

/**
 * Every registered actor name with its first `limitPerName` actors. The
 * engine lists actors per name only, so this is one request per name.
 */
export async function listFleet(engine: EngineAccess, limitPerName: number): Promise<FleetEntry[]> {
	const { names } = await getJson(engine, "/actors/names", {}, actorNamesSchema);
	const entries = Object.entries(names).sort(([a], [b]) => a.localeCompare(b));
	return Promise.all(
		entries.map(async ([name, { metadata }]) => {
			const page = await getJson(engine, "/actors", { name, limit: String(limitPerName) }, actorListSchema);
			const cursor = page.actors.length >= limitPerName ? page.pagination.cursor : null;
			return { name, metadata, actors: page.actors, cursor };
		}),
	);
}

/**
 * One page of `name`'s actors. The engine lists them newest first (by
 * `create_ts`); `cursor` continues after the last one, null on the last page.
 */
export async function listActorsPage(
	engine: EngineAccess,
	name: string,
	page: { limit: number; cursor?: string | null },
): Promise<{ actors: EngineActor[]; cursor: string | null }> {
	const query: Record<string, string> = { name, limit: String(page.limit) };
	if (page.cursor) query.cursor = page.cursor;
	const { actors, pagination } = await getJson(engine, "/actors", query, actorListSchema);
	return { actors, cursor: actors.length >= page.limit ? pagination.cursor : null };
}

async function getJson<S extends z.ZodType>(
	engine: EngineAccess,
	path: string,
	query: Record<string, string>,
	schema: S,
): Promise<z.output<S>> {
	const url = new URL(`${engine.endpoint}${path}`);
	url.searchParams.set("namespace", engine.namespace);
	for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
	const headers = new Headers();
	if (engine.token) headers.set("authorization", `Bearer ${engine.token}`);
	let res: Response;
	let text: string;
	try {
		res = await fetch(url, { headers, signal: AbortSignal.timeout(ENGINE_REQUEST_TIMEOUT_MS) });
		text = await res.text();
	} catch (error) {
		throw new EngineApiError(`GET ${path}: the engine at ${engine.endpoint} did not answer (${describe(error)})`);
	}
	if (!res.ok) throw new EngineApiError(`GET ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		throw new EngineApiError(`GET ${path}: the body is not JSON`);
	}
	const parsed = schema.safeParse(json);
	if (!parsed.success) {
		const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
		throw new EngineApiError(`GET ${path}: unexpected body (${problems.join("; ")})`);
	}
	return parsed.data;
}

function describe(error: unknown): string {
	const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
	if (typeof cause?.code === "string") return cause.code;
	return error instanceof Error ? error.message : String(error);
}
