// Every way a debug call can fail, as a typed error.
//
// `RivetApiError` carries the engine's (or the actor's) own error body
// `{group, code, message, metadata}` unchanged, plus the HTTP status and the
// request that failed. The other classes are failures that never produced
// such a body: nothing answered, the answer had an unexpected shape, the
// route does not exist in this rivetkit version, or the caller's input was
// rejected before anything was sent. All extend `DebugError`, so a caller
// (the CLI) can tell expected failures from bugs.

export abstract class DebugError extends Error {}

/** The engine or an actor answered with an error. */
export class RivetApiError extends DebugError {
	override readonly name: string = "RivetApiError";
	readonly status: number;
	readonly group: string;
	readonly code: string;
	readonly metadata: unknown;
	/** `METHOD /path` of the failed request (no query string, no credentials). */
	readonly request: string;
	/** A sentence on what usually causes this error, when we know it. */
	readonly hint: string | undefined;

	constructor(init: {
		status: number;
		group: string;
		code: string;
		message: string;
		metadata: unknown;
		request: string;
		hint?: string | undefined;
	}) {
		super(init.message);
		this.status = init.status;
		this.group = init.group;
		this.code = init.code;
		this.metadata = init.metadata;
		this.request = init.request;
		this.hint = init.hint;
	}

	/** `group.code`, e.g. `actor.not_found`. */
	get id(): string {
		return `${this.group}.${this.code}`;
	}
}

/** The same error with an explanation of its usual cause attached. */
export function withHint(error: RivetApiError, hint: string): RivetApiError {
	return new RivetApiError({
		status: error.status,
		group: error.group,
		code: error.code,
		message: error.message,
		metadata: error.metadata,
		request: error.request,
		hint,
	});
}

/**
 * Replay was refused because the workflow is running or waiting (a looping
 * worker waiting on its queue is always "in flight"). 409
 * `actor.workflow_in_flight` from the inspector.
 */
export class WorkflowInFlightError extends RivetApiError {
	override readonly name = "WorkflowInFlightError";

	constructor(cause: RivetApiError) {
		super({
			status: cause.status,
			group: cause.group,
			code: cause.code,
			message: cause.message,
			metadata: cause.metadata,
			request: cause.request,
			hint: "replay only works once the workflow has finished or failed; a workflow that loops forever (such as a queue consumer) can never be replayed",
		});
	}
}

/** Nothing answered at the endpoint (connection refused, DNS, timeout). */
export class EngineUnreachableError extends DebugError {
	override readonly name = "EngineUnreachableError";
	readonly endpoint: string;
	/** The network error's code, e.g. `ECONNREFUSED`, or `UND_ERR_SOCKET` for a connection closed mid-request. */
	readonly reason: string;

	constructor(endpoint: string, reason: string) {
		super(`cannot reach the engine at ${endpoint} (${reason})`);
		this.endpoint = endpoint;
		this.reason = reason;
	}
}

/** The engine took the request but no answer came in time (a stuck or overloaded actor). */
export class RequestTimeoutError extends DebugError {
	override readonly name = "RequestTimeoutError";
	readonly request: string;

	constructor(request: string, timeoutMs: number) {
		super(`no answer to ${request} within ${timeoutMs} ms`);
		this.request = request;
	}
}

/** The engine answered 2xx with a body this client does not understand. */
export class UnexpectedResponseError extends DebugError {
	override readonly name = "UnexpectedResponseError";
	readonly request: string;
	readonly body: unknown;

	constructor(request: string, problem: string, body: unknown) {
		super(`unexpected response to ${request}: ${problem}`);
		this.request = request;
		this.body = body;
	}
}

/** The route does not exist (or is a stub) in the installed rivetkit version. */
export class UnsupportedEndpointError extends DebugError {
	override readonly name = "UnsupportedEndpointError";
	readonly endpoint: string;

	constructor(endpoint: string, message: string) {
		super(message);
		this.endpoint = endpoint;
	}
}

/** The caller's input was rejected locally; nothing was sent. */
export class DebugInputError extends DebugError {
	override readonly name = "DebugInputError";
}

/** No actor matches a name + key (the management API returned none). */
export class ActorNotFoundError extends DebugError {
	override readonly name = "ActorNotFoundError";
	readonly actorName: string;
	readonly key: string;

	constructor(actorName: string, key: string, namespace: string) {
		super(`no "${actorName}" actor with key ${JSON.stringify(key)} in namespace "${namespace}"`);
		this.actorName = actorName;
		this.key = key;
	}
}

/** The actor has no inspector token in its KV, even after being woken. */
export class InspectorTokenError extends DebugError {
	override readonly name = "InspectorTokenError";
}
