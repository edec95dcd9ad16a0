// The Durable Object peer: what a user would build on Cloudflare instead of
// the fleet's counter and chat room, run locally by Miniflare (workerd).
//
// This file runs inside workerd, not Node: `server.ts` strips its types and
// hands it to Miniflare as the entry module, beside the Workflows peer
// (`jobs-workflow.ts`, whose routes and classes it passes on). The few
// Workers APIs it uses are declared below instead of pulling in
// `@cloudflare/workers-types`, whose globals clash with Node's.
//
// Routes:
// - `POST /counter/<key>/increment` with `{ "args": [amount] }` answers
//   `{ "output": count }`, like the engine's `POST /gateway/{id}/action/increment`.
// - `GET /counter/<key>/ws` (WebSocket): each `{ "id", "args": [amount] }`
//   increments and is answered `{ "id", "output": count }`.
// - `GET /room/<key>/ws?username=<name>` (WebSocket): `{ "id", "text" }`
//   stores the message in SQLite, sends `{ "event": "message", "message" }`
//   to every other socket in the room, then answers `{ "id", "output": message }`.
// - `/jobs/…` and `/results/…`: the Workflows peer (`jobs-workflow.ts`).
//
// Both classes use the WebSocket hibernation API (`ctx.acceptWebSocket`):
// it is what Cloudflare documents for Durable Objects that hold sockets, the
// object may be evicted while sockets stay open (as a rivetkit actor may
// sleep while its hibernatable connections stay open), and on one awake
// object it costs the same per message as a plain `accept()`. Neither class
// handles `webSocketClose`: from the compatibility date server.ts sets
// (2026-04-07 on), workerd answers a client's close frame by itself.

import { type JobsEnv, routeJobs } from "./jobs-workflow.ts";

export { JobResults, JobWorkflow } from "./jobs-workflow.ts";

/** Largest step one call may add, as in the fleet's counter. */
const MAX_INCREMENT = 1_000;
/** Longest message, in characters, as in the fleet's chat room. */
const MAX_MESSAGE_LENGTH = 2_000;
const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

interface SqlCursor {
	toArray(): Array<Record<string, unknown>>;
}

interface DurableObjectStorage {
	get<T>(key: string): Promise<T | undefined>;
	put(key: string, value: unknown): Promise<void>;
	sql: { exec(query: string, ...bindings: unknown[]): SqlCursor };
}

interface WorkerWebSocket {
	send(message: string): void;
	serializeAttachment(value: unknown): void;
	deserializeAttachment(): unknown;
}

interface DurableObjectState {
	storage: DurableObjectStorage;
	acceptWebSocket(ws: WorkerWebSocket, tags?: string[]): void;
	getWebSockets(tag?: string): WorkerWebSocket[];
}

interface DurableObjectStub {
	fetch(request: Request): Promise<Response>;
}

interface DurableObjectNamespace {
	idFromName(name: string): unknown;
	get(id: unknown): DurableObjectStub;
}

interface Env extends JobsEnv {
	COUNTER: DurableObjectNamespace;
	ROOM: DurableObjectNamespace;
}

declare const WebSocketPair: new () => { 0: WorkerWebSocket; 1: WorkerWebSocket };

/** A refusal the client can act on: the request changed nothing. */
class Refusal extends Error {
	readonly code: string;
	constructor(code: string, message: string) {
		super(message);
		this.code = code;
	}
}

function json(body: unknown, status = 200): Response {
	return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function refusalBody(error: unknown): { code: string; message: string } {
	if (error instanceof Refusal) return { code: error.code, message: error.message };
	return { code: "internal_error", message: "internal error" };
}

/** Parses a message or body; anything but a JSON object is refused. */
function parseObject(text: string): Record<string, unknown> {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw new Refusal("invalid_json", "the body is not JSON");
	}
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		throw new Refusal("invalid_body", "the body must be a JSON object");
	}
	return value as Record<string, unknown>;
}

function parseAmount(args: unknown): number {
	const amount = Array.isArray(args) ? args[0] : undefined;
	if (typeof amount !== "number" || !Number.isInteger(amount) || amount < 1 || amount > MAX_INCREMENT) {
		throw new Refusal("invalid_amount", `amount must be a whole number from 1 to ${MAX_INCREMENT}`);
	}
	return amount;
}

/** Opens the server side of a WebSocket upgrade and returns it with the 101 response. */
function upgrade(request: Request): { server: WorkerWebSocket; response: Response } | Response {
	if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
		return json({ code: "upgrade_required", message: "expected a WebSocket upgrade" }, 426);
	}
	const pair = new WebSocketPair();
	// workerd's ResponseInit takes the client end of the pair; Node's type does not know the field.
	const response = new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
	return { server: pair[1], response };
}

/** One durable number per key: one `storage.get` and one `storage.put` per increment. */
export class Counter {
	readonly #ctx: DurableObjectState;

	constructor(ctx: DurableObjectState) {
		this.#ctx = ctx;
	}

	async increment(amount: number): Promise<number> {
		const count = ((await this.#ctx.storage.get<number>("count")) ?? 0) + amount;
		if (count > Number.MAX_SAFE_INTEGER) throw new Refusal("count_overflow", "the counter would overflow");
		// Workers' output gate holds the reply until this write is stored, so
		// an answered increment is a stored one, as with the fleet's immediate save.
		await this.#ctx.storage.put("count", count);
		return count;
	}

	async fetch(request: Request): Promise<Response> {
		const route = new URL(request.url).pathname.split("/")[3];
		if (route === "ws") {
			const opened = upgrade(request);
			if (opened instanceof Response) return opened;
			this.#ctx.acceptWebSocket(opened.server);
			return opened.response;
		}
		if (route === "increment" && request.method === "POST") {
			try {
				const body = parseObject(await request.text());
				return json({ output: await this.increment(parseAmount(body.args)) });
			} catch (error) {
				return json(refusalBody(error), error instanceof Refusal ? 400 : 500);
			}
		}
		return json({ code: "not_found", message: "no such route" }, 404);
	}

	async webSocketMessage(ws: WorkerWebSocket, message: string | ArrayBuffer): Promise<void> {
		let id: unknown = null;
		try {
			const body = parseObject(typeof message === "string" ? message : new TextDecoder().decode(message));
			id = body.id ?? null;
			ws.send(JSON.stringify({ id, output: await this.increment(parseAmount(body.args)) }));
		} catch (error) {
			ws.send(JSON.stringify({ id, error: refusalBody(error) }));
		}
	}
}

interface StoredMessage {
	id: number;
	username: string;
	text: string;
	createdAt: number;
}

/** One chat room per key: every message is one SQLite INSERT … RETURNING, then a broadcast. */
export class Room {
	readonly #ctx: DurableObjectState;

	constructor(ctx: DurableObjectState) {
		this.#ctx = ctx;
		ctx.storage.sql.exec(
			"CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL)",
		);
	}

	async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname.split("/")[3] !== "ws") return json({ code: "not_found", message: "no such route" }, 404);
		const username = url.searchParams.get("username") ?? "";
		if (!USERNAME_PATTERN.test(username)) {
			return json({ code: "invalid_username", message: "username must match [A-Za-z0-9_.-]{1,32}" }, 400);
		}
		const opened = upgrade(request);
		if (opened instanceof Response) return opened;
		this.#ctx.acceptWebSocket(opened.server);
		// The attachment survives hibernation, so the sender is known on every message.
		opened.server.serializeAttachment({ username });
		return opened.response;
	}

	webSocketMessage(ws: WorkerWebSocket, message: string | ArrayBuffer): void {
		let id: unknown = null;
		try {
			const body = parseObject(typeof message === "string" ? message : new TextDecoder().decode(message));
			id = body.id ?? null;
			const text = body.text;
			if (typeof text !== "string" || text.length < 1 || text.length > MAX_MESSAGE_LENGTH) {
				throw new Refusal("invalid_text", `text must be 1 to ${MAX_MESSAGE_LENGTH} characters`);
			}
			const { username } = ws.deserializeAttachment() as { username: string };
			const [row] = this.#ctx.storage.sql
				.exec(
					"INSERT INTO messages (username, text, created_at) VALUES (?, ?, ?) RETURNING id, created_at",
					username,
					text,
					Date.now(),
				)
				.toArray();
			const stored: StoredMessage = { id: Number(row?.id), username, text, createdAt: Number(row?.created_at) };
			const event = JSON.stringify({ event: "message", message: stored });
			for (const other of this.#ctx.getWebSockets()) if (other !== ws) other.send(event);
			ws.send(JSON.stringify({ id, output: stored }));
		} catch (error) {
			ws.send(JSON.stringify({ id, error: refusalBody(error) }));
		}
	}
}

/** Routes `/counter/<key>/…` and `/room/<key>/…` to the object named `<key>`, and the Workflows peer's routes. */
export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const [, kind, key] = new URL(request.url).pathname.split("/");
		if (kind === "jobs" || kind === "results") return routeJobs(request, env);
		const namespace = kind === "counter" ? env.COUNTER : kind === "room" ? env.ROOM : undefined;
		if (!namespace || !key) return json({ code: "not_found", message: "no such route" }, 404);
		return namespace.get(namespace.idFromName(decodeURIComponent(key))).fetch(request);
	},
};
