// The one error an HTTP route throws to refuse a request, and the one
// handler that turns it into the JSON every client mistake gets,
// `{ code, message, issues? }` with its status: `createApp` (src/app.ts) and
// the auth routes (src/auth/routes.ts, also mounted on their own) install it
// as `onError`. A route never builds an error response itself.

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";

/** Stable codes a client may branch on. */
export type HttpErrorCode =
	| "bad_request"
	| "invalid_input"
	| "invalid_json"
	| "unsupported_media_type"
	| "unauthenticated"
	| "forbidden"
	| "not_found"
	| "payload_too_large"
	| "rate_limited"
	| "fleet_unavailable";

export interface HttpErrorOptions {
	/** One line per bad field, for `invalid_input`. */
	issues?: string[];
	/** Headers the refusal carries (e.g. `WWW-Authenticate` on a 401). */
	headers?: Record<string, string>;
	/** More fields of the body, for a client to act on (e.g. `retryAfterMs` on a 429). */
	fields?: Record<string, number | string>;
}

export class HttpError extends Error {
	readonly status: ContentfulStatusCode;
	readonly code: HttpErrorCode;
	readonly issues: string[] | undefined;
	readonly headers: Record<string, string>;
	readonly fields: Record<string, number | string>;

	constructor(status: ContentfulStatusCode, code: HttpErrorCode, message: string, options: HttpErrorOptions = {}) {
		super(message);
		this.status = status;
		this.code = code;
		this.issues = options.issues;
		this.headers = options.headers ?? {};
		this.fields = options.fields ?? {};
	}

	/** A 400 `invalid_input` listing each bad field of a zod error. */
	static invalidInput(error: z.ZodError, message: string): HttpError {
		const issues = error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
		return new HttpError(400, "invalid_input", message, { issues });
	}

	/** The JSON body clients receive. */
	toJSON(): Record<string, unknown> & { code: HttpErrorCode; message: string } {
		return {
			...this.fields,
			code: this.code,
			message: this.message,
			...(this.issues ? { issues: this.issues } : {}),
		};
	}
}

/**
 * Hono's `onError`: an `HttpError` becomes its JSON; a zod error a 400
 * `invalid_input`; Hono's own client errors (a malformed body) a
 * `bad_request`. Anything else is a bug: logged with detail, and the client
 * learns nothing but a 500.
 */
export function httpErrorHandler(thrown: unknown, c: Context): Response {
	let error = thrown;
	if (error instanceof z.ZodError) error = HttpError.invalidInput(error, "the request is invalid");
	if (error instanceof HTTPException && error.status < 500) {
		error = new HttpError(error.status, "bad_request", error.message);
	}
	if (error instanceof HttpError) {
		for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
		return c.json(error.toJSON(), error.status);
	}
	console.error(`unhandled error on ${c.req.method} ${c.req.path}:`, error);
	return c.json({ code: "internal_error", message: "an internal error occurred" }, 500);
}
