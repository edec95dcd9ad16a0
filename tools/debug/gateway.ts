// An actor's public routes, through the engine gateway `/gateway/{actorId}/...`:
// what any client can do, with the same headers rivetkit's own client sends.
//   GET  health              "ok" once the actor runs (wakes it if asleep)
//   GET  metadata            {runtime, type, version}
//   POST action/{name}       {args} → {output}; runs the connection hooks
//   POST queue/{name}        {body, wait?, timeout?} → {status, response?}
//   ANY  request/{path}      forwarded to the actor's `onRequest`
// Connection params travel as the `x-rivet-conn-params` JSON header.

import { z } from "zod";
import type { EngineConfig } from "./config.ts";
import { DebugInputError } from "./errors.ts";
import { type RequestSpec, readText, requestJson, send, toApiError } from "./http.ts";
import { assertActorId } from "./keys.ts";

/** Extra time on top of a queue wait's own timeout before giving up on the HTTP call. */
const QUEUE_WAIT_MARGIN_MS = 5_000;

export interface GatewayCallOptions {
	/** Connection params (what a client passes as `params`), checked by the actor's connect hook. */
	params?: unknown;
}

function gatewayPath(actorId: string, rest: string): string {
	return `/gateway/${assertActorId(actorId)}/${rest}`;
}

function paramsHeader(options: GatewayCallOptions): Record<string, string> {
	return options.params === undefined ? {} : { "x-rivet-conn-params": JSON.stringify(options.params) };
}

function assertName(what: string, name: string): string {
	if (name.trim() === "") throw new DebugInputError(`${what} name is required`);
	return encodeURIComponent(name);
}

/** `"ok"` when the actor answers. Waking a sleeping actor is part of the call. */
export async function gatewayHealth(engine: EngineConfig, actorId: string): Promise<string> {
	const spec: RequestSpec = { method: "GET", path: gatewayPath(actorId, "health"), credentials: { kind: "gateway" } };
	const res = await send(engine, spec);
	if (!res.ok) throw await toApiError(res, spec, engine);
	return (await readText(res, engine)).trim();
}

const actorMetadataSchema = z.looseObject({ runtime: z.string(), version: z.string(), type: z.string().optional() });
export type ActorMetadata = z.infer<typeof actorMetadataSchema>;

/** Which runtime and rivetkit version host the actor. */
export async function gatewayMetadata(engine: EngineConfig, actorId: string): Promise<ActorMetadata> {
	return requestJson(
		engine,
		{ method: "GET", path: gatewayPath(actorId, "metadata"), credentials: { kind: "gateway" } },
		actorMetadataSchema,
	);
}

/**
 * Calls an action as a stateless client would. A `UserError` thrown by the
 * action arrives as `RivetApiError` with group "user" (HTTP 500 in 2.3.19).
 */
export async function gatewayAction(
	engine: EngineConfig,
	actorId: string,
	action: string,
	args: readonly unknown[] = [],
	options: GatewayCallOptions = {},
): Promise<unknown> {
	const body = await requestJson(
		engine,
		{
			method: "POST",
			path: gatewayPath(actorId, `action/${assertName("an action", action)}`),
			credentials: { kind: "gateway" },
			headers: { "x-rivet-encoding": "json", ...paramsHeader(options) },
			body: { args },
		},
		z.looseObject({ output: z.unknown() }),
	);
	return body.output;
}

export interface QueueSendOptions extends GatewayCallOptions {
	/** Wait until the actor completes the message and return its response. */
	wait?: boolean;
	/** How long to wait for completion (ms); the actor's default applies when unset. */
	timeoutMs?: number;
}

export interface QueueSendResult {
	status: "completed" | "timedOut";
	/** What the actor passed to `message.complete(...)`, when waiting. */
	response?: unknown;
}

/**
 * Sends a queue message. Without `wait`, "completed" only means accepted.
 *
 * rivetkit 2.3.19 silently drops messages for a queue name the actor does not
 * declare in `queues` (the answer is still "completed"); the inspector's
 * `sendQueue` enqueues under any name.
 */
export async function gatewaySendQueue(
	engine: EngineConfig,
	actorId: string,
	queue: string,
	body: unknown,
	options: QueueSendOptions = {},
): Promise<QueueSendResult> {
	if (options.timeoutMs !== undefined && (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 0)) {
		throw new DebugInputError("timeout must be a whole number of milliseconds");
	}
	const result = await requestJson(
		engine,
		{
			method: "POST",
			path: gatewayPath(actorId, `queue/${assertName("a queue", queue)}`),
			credentials: { kind: "gateway" },
			headers: { "x-rivet-encoding": "json", ...paramsHeader(options) },
			body: { body, wait: options.wait ?? false, timeout: options.timeoutMs },
			...(options.wait && options.timeoutMs !== undefined
				? { timeoutMs: options.timeoutMs + QUEUE_WAIT_MARGIN_MS }
				: {}),
		},
		z.looseObject({ status: z.enum(["completed", "timedOut"]), response: z.unknown().optional() }),
	);
	return result.response === undefined
		? { status: result.status }
		: { status: result.status, response: result.response };
}

export interface ForwardRequestInit extends GatewayCallOptions {
	method?: string;
	headers?: Record<string, string>;
	body?: string;
}

/**
 * Forwards a raw HTTP request to the actor's `onRequest` handler and returns
 * its response as-is (any status). `path` is relative to the actor, e.g.
 * `/messages?limit=5`.
 */
export async function gatewayRequest(
	engine: EngineConfig,
	actorId: string,
	path: string,
	init: ForwardRequestInit = {},
): Promise<Response> {
	const relative = path.startsWith("/") ? path.slice(1) : path;
	const method = (init.method ?? "GET").toUpperCase();
	if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(method)) {
		throw new DebugInputError(`unsupported method ${method}`);
	}
	return send(engine, {
		method: method as RequestSpec["method"],
		path: gatewayPath(actorId, `request/${relative}`),
		credentials: { kind: "gateway" },
		headers: { ...init.headers, ...paramsHeader(init) },
		...(init.body === undefined ? {} : { rawBody: init.body }),
	});
}
