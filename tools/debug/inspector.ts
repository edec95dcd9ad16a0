// One actor's inspector: `/gateway/{actorId}/inspector/...` with
// `Authorization: Bearer <inspector token>`.
//
// Every actor has its own inspector token, generated on first start and
// mirrored to its KV key 0x03 (`Aw==`), value base64. `ActorInspector` reads
// it once on first use unless one is given. Without it, or with another
// actor's token, every route answers 401 `inspector.unauthorized`; there is no
// local-development bypass.
//
// rivetkit 2.3.19 routes (`registry/native.ts`): summary, state (GET/PATCH),
// connections, rpcs, action/{name}, queue (GET/POST/DELETE), traces (a stub),
// workflow-history, workflow/replay, database/{schema,rows,execute}.
// There is no `metrics` route.

import { z } from "zod";
import type { EngineConfig } from "./config.ts";
import {
	DebugInputError,
	EngineUnreachableError,
	InspectorTokenError,
	RivetApiError,
	UnsupportedEndpointError,
	WorkflowInFlightError,
	withHint,
} from "./errors.ts";
import { gatewayHealth } from "./gateway.ts";
import { type RequestSpec, requestJson } from "./http.ts";
import { assertActorId } from "./keys.ts";
import { readActorKv } from "./management.ts";
import { workflowHistorySchema } from "./workflow-history.ts";

/** The actor KV key holding the inspector token (base64 `Aw==`). */
export const INSPECTOR_TOKEN_KEY = new Uint8Array([0x03]);
/** The inspector caps one page of rows at this many. */
export const MAX_ROWS_PAGE = 500;
export const DEFAULT_ROWS_PAGE = 100;
/** rivetkit's own tables inside every actor's SQLite database. */
export const INTERNAL_TABLE_PREFIX = "_rivet_";

/**
 * Why `traces()` is always empty: rivetkit 2.3.19 answers the route with a
 * fixed `{otlp: [], clamped: false}`.
 */
export const TRACES_STUB_NOTE =
	"rivetkit 2.3.19 serves inspector/traces as a stub that is always empty; use your logs (RIVET_LOG_LEVEL=debug) instead";

const METRICS_UNSUPPORTED =
	"rivetkit 2.3.19 has no inspector/metrics route; Prometheus metrics are served by the app at GET /api/rivet/metrics when RIVETKIT_METRICS_ENABLED=1 and RIVETKIT_METRICS_TOKEN are set";

/**
 * Reads an actor's inspector token from its KV. An actor that has never run
 * has no token yet, so a miss wakes it through the gateway and reads again.
 */
export async function readInspectorToken(engine: EngineConfig, actorId: string): Promise<string> {
	let entry = await readActorKv(engine, actorId, INSPECTOR_TOKEN_KEY);
	if (entry === null) {
		await gatewayHealth(engine, actorId);
		entry = await readActorKv(engine, actorId, INSPECTOR_TOKEN_KEY);
	}
	if (entry === null) throw new InspectorTokenError(`actor ${actorId} has no inspector token in its KV`);
	return new TextDecoder().decode(entry.value);
}

// MARK: response schemas

const connectionSchema = z.looseObject({
	id: z.string(),
	details: z.looseObject({
		params: z.unknown().optional(),
		state: z.unknown().optional(),
		isHibernatable: z.boolean().optional(),
		subscriptions: z.number().optional(),
	}),
});
export type InspectorConnection = z.infer<typeof connectionSchema>;

const workflowResultSchema = z.looseObject({
	history: workflowHistorySchema.nullable(),
	/** "pending" | "running" | "sleeping" | "completed" | "failed" | ... ; null without a workflow. */
	workflowState: z.string().nullable(),
	isWorkflowEnabled: z.boolean(),
});
export type WorkflowResult = z.infer<typeof workflowResultSchema>;

const summarySchema = z.looseObject({
	state: z.unknown().optional(),
	connections: z.array(connectionSchema),
	rpcs: z.array(z.string()),
	queueSize: z.number(),
	isStateEnabled: z.boolean(),
	isDatabaseEnabled: z.boolean(),
	isWorkflowEnabled: z.boolean(),
	workflowState: z.string().nullable(),
	workflowHistory: workflowHistorySchema.nullable(),
});
export type InspectorSummary = z.infer<typeof summarySchema>;

/** Queue message ids are numbers in the queue listing and strings when sent. */
const messageIdSchema = z.union([z.string(), z.number()]).transform(String);

const queuedMessageSchema = z.looseObject({ id: messageIdSchema, name: z.string(), createdAtMs: z.number() });
export type QueuedMessage = z.infer<typeof queuedMessageSchema>;

const queueStatusSchema = z.looseObject({
	size: z.number(),
	maxSize: z.number(),
	truncated: z.boolean(),
	messages: z.array(queuedMessageSchema),
});
export type QueueStatus = z.infer<typeof queueStatusSchema>;

const columnSchema = z.looseObject({
	name: z.string(),
	type: z.string(),
	notnull: z.number(),
	pk: z.number(),
	dflt_value: z.unknown(),
});

const tableSchema = z.looseObject({
	table: z.looseObject({ name: z.string(), type: z.string(), schema: z.string().optional() }),
	columns: z.array(columnSchema),
	foreignKeys: z.array(z.unknown()),
	records: z.number(),
});
export type DatabaseTable = z.infer<typeof tableSchema>;

const rowsSchema = z.looseObject({ rows: z.array(z.record(z.string(), z.unknown())) });
export type Row = Record<string, unknown>;

const tracesSchema = z.looseObject({ otlp: z.array(z.unknown()), clamped: z.boolean() });

export type ActionInput = { args: readonly unknown[] } | { properties: Record<string, unknown> };
export type SqlBindings = { args: readonly unknown[] } | { properties: Record<string, unknown> } | undefined;

// MARK: the client

export interface InspectorOptions {
	/** Use this token instead of reading the actor's own from KV. */
	token?: string | undefined;
}

export class ActorInspector {
	readonly actorId: string;
	readonly #engine: EngineConfig;
	#token: Promise<string> | undefined;

	constructor(engine: EngineConfig, actorId: string, options: InspectorOptions = {}) {
		this.#engine = engine;
		this.actorId = assertActorId(actorId);
		if (options.token !== undefined) this.#token = Promise.resolve(options.token);
	}

	/** The token in use (read from KV on first call when none was given). */
	token(): Promise<string> {
		this.#token ??= readInspectorToken(this.#engine, this.actorId);
		return this.#token;
	}

	/** State, connections, actions, queue size and workflow, in one call. */
	summary(): Promise<InspectorSummary> {
		return this.#get("summary", summarySchema);
	}

	async state(): Promise<{ state: unknown; isStateEnabled: boolean }> {
		const body = await this.#get("state", z.looseObject({ state: z.unknown(), isStateEnabled: z.boolean() }));
		return { state: body.state, isStateEnabled: body.isStateEnabled };
	}

	/**
	 * Replaces the whole state and saves it immediately. The actor's code does
	 * not validate it, so the new state must have the shape the actor expects.
	 */
	async patchState(state: unknown): Promise<void> {
		if (state === undefined) throw new DebugInputError("a new state is required");
		await this.#call({ method: "PATCH", path: "state", body: { state } }, z.looseObject({ ok: z.literal(true) }));
	}

	async connections(): Promise<InspectorConnection[]> {
		return (await this.#get("connections", z.looseObject({ connections: z.array(connectionSchema) }))).connections;
	}

	/** The actor's action names, sorted. */
	async rpcs(): Promise<string[]> {
		return (await this.#get("rpcs", z.looseObject({ rpcs: z.array(z.string()) }))).rpcs;
	}

	/**
	 * Runs an action as the inspector: no connection, so the connect hooks and
	 * connection params do not apply. Input is positional `args`, or
	 * `properties` passed as the single argument.
	 */
	async callAction(action: string, input: ActionInput = { args: [] }): Promise<unknown> {
		if (action.trim() === "") throw new DebugInputError("an action name is required");
		const body = await this.#call(
			{ method: "POST", path: `action/${encodeURIComponent(action)}`, body: input },
			// An action that returns nothing answers `{}`: JSON has no `undefined`.
			z.looseObject({ output: z.unknown().optional() }),
		);
		return body.output;
	}

	/** Queue size and the first `limit` pending messages (ids, names, times; not bodies). */
	queue(options: { limit?: number } = {}): Promise<QueueStatus> {
		if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
			throw new DebugInputError("limit must be a positive integer");
		}
		return this.#call({ method: "GET", path: "queue", query: { limit: options.limit } }, queueStatusSchema);
	}

	/** Enqueues a message under any name (unlike the gateway, undeclared names are kept). */
	sendQueue(name: string, body: unknown): Promise<QueuedMessage> {
		if (name.trim() === "") throw new DebugInputError("a queue name is required");
		return this.#call({ method: "POST", path: "queue", body: { name, body: body ?? null } }, queuedMessageSchema);
	}

	/** Deletes every pending message. */
	async clearQueue(): Promise<void> {
		await this.#call({ method: "DELETE", path: "queue" }, z.looseObject({}));
	}

	/** Always empty in 2.3.19: see `TRACES_STUB_NOTE`. */
	async traces(): Promise<{ otlp: unknown[]; clamped: boolean }> {
		const body = await this.#get("traces", tracesSchema);
		return { otlp: body.otlp, clamped: body.clamped };
	}

	/** Throws `UnsupportedEndpointError` on rivetkit 2.3.19, which has no such route. */
	async metrics(): Promise<unknown> {
		try {
			return await this.#get("metrics", z.unknown());
		} catch (error) {
			if (error instanceof RivetApiError && error.status === 404 && error.id === "actor.not_found") {
				throw new UnsupportedEndpointError("inspector/metrics", METRICS_UNSUPPORTED);
			}
			throw error;
		}
	}

	workflowHistory(): Promise<WorkflowResult> {
		return this.#get("workflow-history", workflowResultSchema);
	}

	/**
	 * Forgets the history from `fromEntryId` on (everything when omitted) and
	 * runs the workflow again from there. Refused with `WorkflowInFlightError`
	 * while the workflow runs or waits.
	 */
	async replayWorkflow(options: { fromEntryId?: string | undefined } = {}): Promise<WorkflowResult> {
		try {
			return await this.#call(
				{ method: "POST", path: "workflow/replay", body: options.fromEntryId ? { entryId: options.fromEntryId } : {} },
				workflowResultSchema,
			);
		} catch (error) {
			if (error instanceof RivetApiError && error.id === "actor.workflow_in_flight") {
				throw new WorkflowInFlightError(error);
			}
			throw error;
		}
	}

	/** Tables and views with columns and row counts, including rivetkit's `_rivet_*` tables. */
	async databaseSchema(): Promise<DatabaseTable[]> {
		const body = await this.#get(
			"database/schema",
			z.looseObject({ schema: z.looseObject({ tables: z.array(tableSchema) }) }),
		);
		return body.schema.tables;
	}

	/** One page of a table's rows, in storage order. */
	async rows(table: string, options: { limit?: number; offset?: number } = {}): Promise<Row[]> {
		const limit = options.limit ?? DEFAULT_ROWS_PAGE;
		const offset = options.offset ?? 0;
		if (table.trim() === "") throw new DebugInputError("a table name is required");
		if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ROWS_PAGE) {
			throw new DebugInputError(`limit must be a whole number from 1 to ${MAX_ROWS_PAGE}`);
		}
		if (!Number.isInteger(offset) || offset < 0) throw new DebugInputError("offset must be a whole number ≥ 0");
		const body = await this.#call(
			{ method: "GET", path: "database/rows", query: { table, limit, offset } },
			rowsSchema,
		);
		return body.rows;
	}

	/**
	 * Runs one SQL statement with `?` args or `:name` properties and returns
	 * its rows. Writes are allowed (and return no rows): this is a debugging
	 * tool with full access to the actor's data.
	 */
	async execute(sql: string, bindings?: SqlBindings): Promise<Row[]> {
		if (sql.trim() === "") throw new DebugInputError("sql is required");
		const body = await this.#call(
			{ method: "POST", path: "database/execute", body: { sql, ...(bindings ?? {}) } },
			rowsSchema,
		);
		return body.rows;
	}

	#get<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
		return this.#call({ method: "GET", path }, schema);
	}

	async #call<S extends z.ZodType>(
		request: Pick<RequestSpec, "method" | "query" | "body"> & { path: string },
		schema: S,
	): Promise<z.output<S>> {
		const token = await this.token();
		try {
			return await requestJson(
				this.#engine,
				{
					...request,
					path: `/gateway/${this.actorId}/inspector/${request.path}`,
					credentials: { kind: "inspector", token },
				},
				schema,
			);
		} catch (error) {
			if (error instanceof RivetApiError && error.id === "inspector.unauthorized") {
				throw withHint(error, WRONG_TOKEN_HINT);
			}
			// The gateway answers a bad token before reading the request body and
			// sometimes closes the connection while the body is still being sent,
			// so the client sees a dropped socket instead of the 401. A bodyless
			// request with the same token shows which it was.
			if (error instanceof EngineUnreachableError && error.reason === "UND_ERR_SOCKET" && request.body !== undefined) {
				await this.#get("rpcs", z.unknown());
			}
			throw error;
		}
	}
}

const WRONG_TOKEN_HINT =
	"the inspector token is wrong or belongs to another actor; leave it out to use this actor's own token";
