// chatRoom: one chat room per key, with live messages and presence.
//
// Key: `[roomId]`, any room name the client picks (e.g. `["lobby"]`).
// Owns: the room's title (state, small), every message (SQLite through
// drizzle, unbounded, paged by id) and each user's last-read message id (KV).
// Flow: `onBeforeConnect` admits a request only with a valid username, the
// chat token when one is configured, and an allowed `Origin`. This runs for
// WebSocket connections and for every stateless HTTP call alike. `postMessage`
// writes the row (with its idempotency key) in one statement, then
// broadcasts `message`. Joining and leaving are announced as `presence`, for
// WebSocket connections only: a stateless call also "connects" for the
// duration of the call, and must not look like a user coming and going.

import { createHash, timingSafeEqual } from "node:crypto";
import { and, count, desc, eq, gt, lt, ne } from "drizzle-orm";
import { type ActionContextOf, type ActorContextOf, actor, event, UserError } from "rivetkit";
import { db } from "rivetkit/db/drizzle";
import { z } from "zod";
import { parseInput } from "../validate.ts";
import {
	type ChatConnParams,
	type ChatHistoryPage,
	type ChatMessage,
	type ChatPresence,
	type ChatRoomInfo,
	MAX_HISTORY_PAGE,
	MAX_MESSAGE_LENGTH,
	MAX_TITLE_LENGTH,
	USERNAME_PATTERN,
} from "./contract.ts";
import chatRoomMigrations from "./migrations.ts";
import { type MessageRow, messages } from "./schema.ts";
import { chatRoomSettings } from "./settings.ts";

export interface ChatConnState {
	username: string;
	/** True for a WebSocket connection, false for a stateless HTTP call. */
	live: boolean;
}

interface ChatRoomState {
	title: string;
}

interface ChatRoomVars {
	/**
	 * Users whose `join` was announced and whose `leave` was not yet. Without
	 * it, two tabs of one user closing together would both see the user gone
	 * (the runtime removes both connections before either callback runs) and
	 * announce two leaves. Ephemeral: null after a wake until the next change.
	 */
	announced: Set<string> | null;
}

const connParamsSchema = z.object({
	username: z.string().regex(USERNAME_PATTERN),
	token: z.string().max(256).optional(),
});
const textSchema = z.string().trim().min(1).max(MAX_MESSAGE_LENGTH);
const postOptionsSchema = z.strictObject({ requestId: z.string().min(1).max(128).optional() }).optional();
const historySchema = z.strictObject({
	before: z.int().positive().optional(),
	limit: z.int().min(1).max(MAX_HISTORY_PAGE),
});
const messageIdSchema = z.int().positive();
const titleSchema = z.string().trim().min(1).max(MAX_TITLE_LENGTH);

export const chatRoom = actor({
	options: { name: "Chat room", icon: "comments" },
	createState: (c): ChatRoomState => ({ title: c.key[0] ?? "chat" }),
	createVars: (): ChatRoomVars => ({ announced: null }),
	db: db({ schema: { messages }, migrations: chatRoomMigrations }),
	events: {
		message: event<ChatMessage>(),
		presence: event<ChatPresence>(),
	},

	onBeforeConnect: (c, params: ChatConnParams) => {
		checkOrigin(c.request?.headers.get("origin") ?? null);
		const { token } = readConnParams(params);
		checkToken(token);
	},

	createConnState: (c, params: ChatConnParams): ChatConnState => ({
		username: readConnParams(params).username,
		live: c.request?.headers.get("upgrade")?.toLowerCase() === "websocket",
	}),

	onConnect: (c, conn) => {
		if (!conn.state.live) return;
		const { username } = conn.state;
		// Everyone connected before this one (this one is in `c.conns` already).
		c.vars.announced ??= new Set(onlineUsers(c, conn.id));
		// A second tab of the same user is not a new arrival.
		if (c.vars.announced.has(username)) return;
		c.vars.announced.add(username);
		c.broadcast("presence", { username, kind: "join", online: onlineUsers(c) });
	},

	onDisconnect: (c, conn) => {
		if (!conn.state.live) return;
		const { username } = conn.state;
		// `c.conns` no longer holds `conn` here.
		const online = onlineUsers(c);
		if (online.includes(username)) return;
		// Not yet tracked since a wake: this user was connected, so announce.
		if (c.vars.announced !== null && !c.vars.announced.delete(username)) return;
		c.vars.announced ??= new Set(online);
		c.broadcast("presence", { username, kind: "leave", online });
	},

	actions: {
		/**
		 * Posts `text` as the caller. A `requestId` makes the call safe to retry:
		 * the same user and id return the message the first call stored.
		 */
		postMessage: async (c, text: string, options?: { requestId?: string }): Promise<ChatMessage> => {
			const body = parseInput(textSchema, text, "text");
			const requestId = parseInput(postOptionsSchema, options, "options")?.requestId ?? null;
			const username = c.conn.state.username;
			// One INSERT carries the message and its idempotency key, so a row
			// acknowledged to the client is also the proof a retry will find.
			const [row] = await c.db
				.insert(messages)
				.values({ username, text: body, createdAt: Date.now(), requestId })
				.onConflictDoNothing()
				.returning();
			if (row) {
				const message = toChatMessage(row);
				c.broadcast("message", message);
				return message;
			}
			return toChatMessage(await findByRequestId(c, username, requestId));
		},

		/** A page of messages older than `before` (a message id), oldest first. */
		history: async (c, query: { before?: number; limit: number }): Promise<ChatHistoryPage> => {
			const { before, limit } = parseInput(historySchema, query, "query");
			const rows = await c.db
				.select()
				.from(messages)
				.where(before === undefined ? undefined : lt(messages.id, before))
				.orderBy(desc(messages.id))
				.limit(limit + 1);
			const page = rows.slice(0, limit).reverse();
			return { messages: page.map(toChatMessage), hasMore: rows.length > limit };
		},

		/** Marks everything up to `messageId` as read by the caller. Never moves back. */
		markRead: async (c, messageId: number): Promise<void> => {
			const id = parseInput(messageIdSchema, messageId, "messageId");
			if (id > (await latestMessageId(c))) {
				throw new UserError(`message ${id} does not exist`, { code: "unknown_message" });
			}
			const key = lastReadKey(c.conn.state.username);
			if (id > Number((await c.kv.get(key)) ?? 0)) await c.kv.put(key, String(id));
		},

		/** Messages from others after the caller's last-read message. */
		unreadCount: async (c): Promise<number> => {
			const { username } = c.conn.state;
			const lastRead = Number((await c.kv.get(lastReadKey(username))) ?? 0);
			const [row] = await c.db
				.select({ n: count() })
				.from(messages)
				.where(and(gt(messages.id, lastRead), ne(messages.username, username)));
			return row?.n ?? 0;
		},

		info: async (c): Promise<ChatRoomInfo> => {
			const [row] = await c.db.select({ n: count() }).from(messages);
			return { roomId: c.key[0] ?? "", title: c.state.title, messageCount: row?.n ?? 0, online: onlineUsers(c) };
		},

		setTitle: async (c, title: string): Promise<void> => {
			c.state.title = parseInput(titleSchema, title, "title");
			await c.saveState({ immediate: true });
		},
	},
});

type ChatRoomContext = ActorContextOf<typeof chatRoom>;
type ChatRoomActionContext = ActionContextOf<typeof chatRoom>;

function readConnParams(params: unknown): z.output<typeof connParamsSchema> {
	const result = connParamsSchema.safeParse(params);
	if (!result.success) {
		throw new UserError("connect with params { username } of 1-32 letters, digits, _ . or -", {
			code: "invalid_username",
		});
	}
	return result.data;
}

/**
 * Browsers always send `Origin`, so a page on another site cannot use a
 * visitor's browser to join rooms. Requests without one (node clients, curl)
 * are not browsers; the token is what guards against them.
 */
function checkOrigin(origin: string | null): void {
	if (origin !== null && !chatRoomSettings().allowedOrigins.includes(origin)) {
		throw new UserError("this origin may not open chat connections", { code: "origin_not_allowed" });
	}
}

function checkToken(token: string | undefined): void {
	const expected = chatRoomSettings().chatToken;
	if (expected === undefined) return;
	// Comparing digests keeps the comparison constant-time whatever the lengths.
	const digest = (value: string) => createHash("sha256").update(value).digest();
	if (token === undefined || !timingSafeEqual(digest(token), digest(expected))) {
		throw new UserError("a valid chat token is required", { code: "forbidden" });
	}
}

/** Usernames with a WebSocket connection open, sorted. `c.conns` also holds in-flight stateless calls. */
function onlineUsers(c: ChatRoomContext, exceptConnId?: string): string[] {
	const names = new Set<string>();
	for (const conn of c.conns.values()) {
		if (conn.state.live && conn.id !== exceptConnId) names.add(conn.state.username);
	}
	return [...names].sort();
}

async function findByRequestId(
	c: ChatRoomActionContext,
	username: string,
	requestId: string | null,
): Promise<MessageRow> {
	const [row] =
		requestId === null
			? []
			: await c.db
					.select()
					.from(messages)
					.where(and(eq(messages.username, username), eq(messages.requestId, requestId)))
					.limit(1);
	// The insert only skips a row when this (username, requestId) exists.
	if (!row) throw new Error("postMessage: insert skipped but no earlier message matches");
	return row;
}

async function latestMessageId(c: ChatRoomActionContext): Promise<number> {
	const [row] = await c.db.select({ id: messages.id }).from(messages).orderBy(desc(messages.id)).limit(1);
	return row?.id ?? 0;
}

/**
 * Each user's last-read message id lives in the actor's KV store. In rivetkit
 * 2.3 KV is deprecated as a general store ("use SQLite or state"); what is left
 * is a low-level escape hatch: durable get/put of a value by key, nothing
 * more. That is exactly this data: one small number per user, read and
 * written by its key, never queried across users. State would grow with every
 * user who ever joined; a table would be a schema and a migration for a
 * key-value pair. Each `put` is durable when it resolves.
 */
function lastReadKey(username: string): string {
	return `last-read/${username}`;
}

function toChatMessage(row: MessageRow): ChatMessage {
	return { id: row.id, username: row.username, text: row.text, createdAt: row.createdAt };
}
