// The one place the debug client calls `fetch`.
//
// A request names which credentials it needs:
//   "management"  Authorization: Bearer <engine token>   (REST API, KV)
//   "gateway"     x-rivet-token: <engine token>           (/gateway/{id}/...)
//   "inspector"   Authorization: Bearer <inspector token>, plus x-rivet-token
// Local engines need no engine token; headers are only sent when one is set.
// Success bodies are parsed with a zod schema; error bodies become
// `RivetApiError`, network failures `EngineUnreachableError`.

import { z } from "zod";
import type { EngineConfig } from "./config.ts";
import { EngineUnreachableError, RequestTimeoutError, RivetApiError, UnexpectedResponseError } from "./errors.ts";

/**
 * How long one request may take before it counts as unanswered. Longer than
 * the engine gateway's own 55 s limit, so its error (naming the cause) wins.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export type Credentials = { kind: "management" } | { kind: "gateway" } | { kind: "inspector"; token: string };

export type QueryValue = string | number | boolean | undefined;

export interface RequestSpec {
	method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
	/** Path below the endpoint, with every dynamic segment already encoded. */
	path: string;
	query?: Record<string, QueryValue>;
	/** Serialised as JSON when present. */
	body?: unknown;
	/** Sent verbatim (for requests forwarded to an actor's `onRequest`). */
	rawBody?: string;
	headers?: Record<string, string>;
	credentials: Credentials;
	/** Management routes are scoped by `?namespace=`; gateway routes by actor id. */
	namespaced?: boolean;
	timeoutMs?: number;
}

/** The engine's error body, and what actors answer on `/gateway/{id}/...`. */
const rivetErrorBodySchema = z.object({
	group: z.string(),
	code: z.string(),
	message: z.string(),
	metadata: z.unknown().optional(),
});

/**
 * A few inspector routes in rivetkit 2.3.19 answer client mistakes with a
 * bare `{error}` body instead (missing `table`, empty `sql`, both `args` and
 * `properties`).
 */
const bareErrorBodySchema = z.object({ error: z.string() });

/** Sends a request and returns the raw response, whatever its status. */
export async function send(engine: EngineConfig, spec: RequestSpec): Promise<Response> {
	const url = new URL(`${engine.endpoint}${spec.path}`);
	if (spec.namespaced) url.searchParams.set("namespace", engine.namespace);
	for (const [name, value] of Object.entries(spec.query ?? {})) {
		if (value !== undefined) url.searchParams.set(name, String(value));
	}
	const headers = new Headers(spec.headers);
	if (spec.credentials.kind === "management" && engine.token) {
		headers.set("authorization", `Bearer ${engine.token}`);
	}
	if (spec.credentials.kind !== "management" && engine.token) {
		headers.set("x-rivet-token", engine.token);
	}
	if (spec.credentials.kind === "inspector") {
		headers.set("authorization", `Bearer ${spec.credentials.token}`);
	}
	let body = spec.rawBody;
	if (spec.body !== undefined) {
		headers.set("content-type", "application/json");
		body = JSON.stringify(spec.body);
	}
	const timeoutMs = spec.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
	try {
		return await fetch(url, { method: spec.method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
	} catch (error) {
		if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
			throw new RequestTimeoutError(describeRequest(spec), timeoutMs);
		}
		throw new EngineUnreachableError(engine.endpoint, describeFetchFailure(error));
	}
}

/** Sends a request and parses a 2xx JSON body with `schema`; anything else throws. */
export async function requestJson<S extends z.ZodType>(
	engine: EngineConfig,
	spec: RequestSpec,
	schema: S,
): Promise<z.output<S>> {
	const res = await send(engine, spec);
	if (!res.ok) throw await toApiError(res, spec, engine);
	const text = await readText(res, engine);
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		throw new UnexpectedResponseError(describeRequest(spec), "the body is not JSON", text);
	}
	const parsed = schema.safeParse(json);
	if (!parsed.success) {
		const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
		throw new UnexpectedResponseError(describeRequest(spec), problems.join("; "), json);
	}
	return parsed.data;
}

/** Turns a non-2xx response into a `RivetApiError` carrying the body's fields. */
export async function toApiError(res: Response, spec: RequestSpec, engine: EngineConfig): Promise<RivetApiError> {
	const request = describeRequest(spec);
	const text = await readText(res, engine);
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	const typed = rivetErrorBodySchema.safeParse(json);
	if (typed.success) {
		const { group, code, message, metadata } = typed.data;
		return new RivetApiError({ status: res.status, group, code, message, metadata: metadata ?? null, request });
	}
	const bare = bareErrorBodySchema.safeParse(json);
	if (bare.success) {
		return new RivetApiError({
			status: res.status,
			group: "inspector",
			code: "invalid_request",
			message: bare.data.error,
			metadata: null,
			request,
		});
	}
	// No error body at all (e.g. an actor without `onRequest` answers 404 with
	// an empty body). Keep the status as the code so callers can still branch.
	return new RivetApiError({
		status: res.status,
		group: "http",
		code: `status_${res.status}`,
		message: text.trim() || `HTTP ${res.status} ${res.statusText}`.trim(),
		metadata: null,
		request,
	});
}

/** The body as text; a connection dropped mid-body is a network failure like any other. */
export async function readText(res: Response, engine: EngineConfig): Promise<string> {
	try {
		return await res.text();
	} catch (error) {
		throw new EngineUnreachableError(engine.endpoint, describeFetchFailure(error));
	}
}

export function describeRequest(spec: Pick<RequestSpec, "method" | "path">): string {
	return `${spec.method} ${spec.path}`;
}

function describeFetchFailure(error: unknown): string {
	const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
	if (typeof cause?.code === "string") return cause.code;
	if (typeof cause?.message === "string") return cause.message;
	return error instanceof Error ? error.message : String(error);
}
