// chatRoom: one chat room per key, with live messages and presence.
//
// Key: `[roomId]`, any room name the client picks (e.g. `["lobby"]`).
// Owns: the room's title and owner (state, small), up to MAX_ROOM_MESSAGES
// messages (SQLite through drizzle, paged by id; beyond it the oldest message
// of the author who holds the most goes, so a flood evicts itself first) and
// each user's last-read message id (KV).
// Flow:
//   1. Every connection proves who it is with an access token, verified once
//      in `createConnState` (for WebSocket connections and for every
//      stateless HTTP call alike), and browsers must come from an allowed
//      `Origin`.
//   2. Rooms are open: any signed-in user may join, read and post; the
//      author, reader and renamer is always the token's user, never an
//      argument. The first user to post in (or name) a room becomes its
//      owner, the only one besides operators who may rename it, after their
//      quota actor accepts one more room this hour (src/actors/quota).
//   3. `postMessage` charges the author's rate limit, claims an unowned room,
//      writes the row (with its idempotency key) in one statement, then sends
//      `message` to the WebSocket connections whose token is still valid.
//   4. Joining and leaving are announced as `presence`, for WebSocket
//      connections only: a stateless call also "connects" for the duration
//      of the call, and must not look like a user coming and going. Presence
//      is rate limited per room (churn would otherwise send the online list
//      to every member on every connect), and only connections whose token is
//      still valid count toward the connection caps: expired ones are closed.
// Who may call what is `CHAT_ROOM_ACCESS` in ./contract.ts; `guard` in
// ../access.ts decides it, and owner claims are its `claimOwner`.

import { and, asc, count, desc, eq, gt, lt, min, ne } from "drizzle-orm";
import {
	type ActionContextOf,
	type ActorContextOf,
	actor,
	type CreateConnStateContextOf,
	event,
	UserError,
} from "rivetkit";
import { db } from "rivetkit/db/drizzle";
import { z } from "zod";
import { type ActorConnState, connStateFor, type Identity } from "../../auth/connection.ts";
import type { Registry } from "../../registry.ts";
import {
	claimOwner,
	closeExpired,
	guard,
	ownerOf,
	type PendingClaim,
	requireAccess,
	sendToAllowed,
	stillValid,
} from "../access.ts";
import type { AccessRule } from "../access-contract.ts";
import { chargeCreationFor } from "../quota/charge.ts";
import { chargeWrite, RateLimiter } from "../rate-limit.ts";
import { admitOrForget } from "../strangers.ts";
import { parseInput } from "../validate.ts";
import {
	CHAT_POST_BURST,
	CHAT_POSTS_PER_SECOND,
	CHAT_ROOM_ACCESS,
	type ChatHistoryPage,
	type ChatMessage,
	type ChatPresence,
	type ChatRoomInfo,
	MAX_CONNECTIONS_PER_USER,
	MAX_HISTORY_PAGE,
	MAX_MESSAGE_LENGTH,
	MAX_ROOM_CONNECTIONS,
	MAX_TITLE_LENGTH,
	PRESENCE_BURST,
	PRESENCE_EVENTS_PER_SECOND,
} from "./contract.ts";
import chatRoomMigrations from "./migrations.ts";
import { type MessageRow, messages } from "./schema.ts";
import { chatRoomSettings } from "./settings.ts";

export type ChatConnState = ActorConnState;

interface ChatRoomState {
	title: string;
	/** The user id of the first user who posted or named the room; null until then. */
	owner: string | null;
}

interface ChatRoomVars {
	/**
	 * Users (by id) whose `join` was announced and whose `leave` was not yet.
	 * Without it, two tabs of one user closing together would both see the
	 * user gone (the runtime removes both connections before either callback
	 * runs) and announce two leaves. Ephemeral: null after a wake until the
	 * next change.
	 */
	announced: Set<string> | null;
	/** Per-user post limits; in memory, so they reset when the actor sleeps. */
	posts: RateLimiter;
	/** The room's presence events (one bucket for the whole room, under `PRESENCE_LIMIT_KEY`). */
	presence: RateLimiter;
	/** The latest change not yet announced because presence was over its limit, and the timer that announces it. */
	presenceLater: { change: PresenceChange; timer: NodeJS.Timeout } | null;
	/**
	 * The first write of a room with no owner, while its user's quota is
	 * asked (`claimOwner` in ../access.ts). In memory only: the owner is
	 * saved with the write itself.
	 */
	claim: PendingClaim | null;
}

/** A join or leave, before the online list is added when it is sent. */
type PresenceChange = Omit<ChatPresence, "online">;

/** The one key the room's presence limiter counts under. */
const PRESENCE_LIMIT_KEY = "room";
/** How long a presence change over the limit waits: the time the bucket takes to regain one event. */
const PRESENCE_RETRY_MS = Math.ceil(1_000 / PRESENCE_EVENTS_PER_SECOND);

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
	createState: (c): ChatRoomState => ({ title: c.key[0] ?? "chat", owner: null }),
	createVars: (): ChatRoomVars => ({
		announced: null,
		posts: new RateLimiter({ burst: CHAT_POST_BURST, perSecond: CHAT_POSTS_PER_SECOND }),
		presence: new RateLimiter({ burst: PRESENCE_BURST, perSecond: PRESENCE_EVENTS_PER_SECOND }),
		presenceLater: null,
		claim: null,
	}),
	db: db({ schema: { messages }, migrations: chatRoomMigrations }),
	events: {
		message: event<ChatMessage>(),
		presence: event<ChatPresence>(),
	},

	// A refused first connection leaves no room behind (src/actors/strangers.ts).
	createConnState: (c, params: unknown): Promise<ChatConnState> =>
		admitOrForget(
			c,
			() => holdsNothing(c),
			async () => {
				checkOrigin(c.request?.headers.get("origin") ?? null);
				const caller = await connStateFor(params, c.request);
				// The server's own token is for actor→actor calls; chat is for people.
				requireAccess(CONNECT_RULE, caller);
				if (caller.live) checkConnectionCaps(c, caller.userId);
				return caller;
			},
		),

	onConnect: (c, conn) => {
		if (!conn.state.live) return;
		const { userId, name } = conn.state;
		// Everyone connected before this one (this one is in `c.conns` already).
		c.vars.announced ??= new Set(onlineUserIds(c, conn.id));
		// A second tab of the same user is not a new arrival.
		if (c.vars.announced.has(userId)) return;
		c.vars.announced.add(userId);
		// Not to the arriving connection itself: it has not even received its
		// handshake yet (`conn.send` does not wait for subscriptions).
		announce(c, { userId, username: name, kind: "join" }, conn.id);
	},

	onDisconnect: (c, conn) => {
		if (!conn.state.live) return;
		const { userId, name } = conn.state;
		// `c.conns` no longer holds `conn` here.
		if (onlineUserIds(c).includes(userId)) return;
		// Not yet tracked since a wake: this user was connected, so announce.
		if (c.vars.announced !== null && !c.vars.announced.delete(userId)) return;
		c.vars.announced ??= new Set(onlineUserIds(c));
		announce(c, { userId, username: name, kind: "leave" });
	},

	onSleep: (c) => {
		// Nobody is connected to hear a pending presence change.
		if (c.vars.presenceLater !== null) clearTimeout(c.vars.presenceLater.timer);
		c.vars.presenceLater = null;
	},

	actions: {
		/**
		 * Posts `text` as the caller. A `requestId` makes the call safe to retry:
		 * the same user and id return the message the first call stored.
		 */
		postMessage: async (c, text: string, options?: { requestId?: string }): Promise<ChatMessage> => {
			const me = guard(c, CHAT_ROOM_ACCESS.postMessage);
			const body = parseInput(textSchema, text, "text");
			const requestId = parseInput(postOptionsSchema, options, "options")?.requestId ?? null;
			chargeWrite(c.vars.posts, me);
			const claimed = await claim(c, me, CHAT_ROOM_ACCESS.postMessage);
			// One INSERT carries the message and its idempotency key, so a row
			// acknowledged to the client is also the proof a retry will find.
			const [row] = await c.db
				.insert(messages)
				.values({ userId: me.userId, username: me.name, text: body, createdAt: Date.now(), requestId })
				.onConflictDoNothing()
				.returning();
			if (claimed) await c.saveState({ immediate: true });
			if (!row) return toChatMessage(await findByRequestId(c, me.userId, requestId));
			await enforceRetention(c, row.id);
			const message = toChatMessage(row);
			sendToReaders(c, "message", message);
			return message;
		},

		/** A page of messages older than `before` (a message id), oldest first. */
		history: async (c, query: { before?: number; limit: number }): Promise<ChatHistoryPage> => {
			guard(c, CHAT_ROOM_ACCESS.history);
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
			const me = guard(c, CHAT_ROOM_ACCESS.markRead);
			const id = parseInput(messageIdSchema, messageId, "messageId");
			if (id > (await latestMessageId(c))) {
				throw new UserError(`message ${id} does not exist`, { code: "unknown_message" });
			}
			const key = lastReadKey(me.userId);
			if (id > Number((await c.kv.get(key)) ?? 0)) await c.kv.put(key, String(id));
		},

		/** Messages from others after the caller's last-read message. */
		unreadCount: async (c): Promise<number> => {
			const me = guard(c, CHAT_ROOM_ACCESS.unreadCount);
			const lastRead = Number((await c.kv.get(lastReadKey(me.userId))) ?? 0);
			const [row] = await c.db
				.select({ n: count() })
				.from(messages)
				.where(and(gt(messages.id, lastRead), ne(messages.userId, me.userId)));
			return row?.n ?? 0;
		},

		info: async (c): Promise<ChatRoomInfo> => {
			guard(c, CHAT_ROOM_ACCESS.info);
			const [row] = await c.db.select({ n: count() }).from(messages);
			return {
				roomId: c.key[0] ?? "",
				title: c.state.title,
				owner: c.state.owner ?? null,
				messageCount: row?.n ?? 0,
				online: onlineNames(c),
			};
		},

		/** Renames the room: its owner or an operator (the first user to name an unowned room becomes its owner). */
		setTitle: async (c, title: string): Promise<void> => {
			const me = guard(c, CHAT_ROOM_ACCESS.setTitle, { owner: ownerOf(c) });
			const next = parseInput(titleSchema, title, "title");
			chargeWrite(c.vars.posts, me);
			await claim(c, me, CHAT_ROOM_ACCESS.setTitle);
			c.state.title = next;
			await c.saveState({ immediate: true });
		},
	},
});

type ChatRoomContext = ActorContextOf<typeof chatRoom>;
type ChatRoomActionContext = ActionContextOf<typeof chatRoom>;
type ChatRoomConnectContext = CreateConnStateContextOf<typeof chatRoom>;

/** Who may connect at all: people (`user` covers operators); the server's own token is refused. */
const CONNECT_RULE: AccessRule = { kind: "action", callers: ["user"] };

/**
 * Makes `me` the owner of a room that has none (`claimOwner` in
 * ../access.ts): the first user to post in or name it, after their quota
 * accepts one more room this hour (src/actors/quota: `ROOMS_CREATED_PER_HOUR`,
 * charged once per room). A refusal (`rate_limited`, metadata
 * `retryAfterMs`) leaves the room without an owner, so it still holds
 * nothing (src/actors/strangers.ts). Returns whether this write claimed it,
 * so the caller saves the state.
 */
function claim(c: ChatRoomActionContext, me: Identity, rule: AccessRule): Promise<boolean> {
	return claimOwner(c, me, rule, () => chargeCreationFor(c.client<Registry>(), me.userId, "room", c.actorId));
}

/**
 * Whether nothing was ever written to this room: no owner (the first post or
 * rename claims one) and no message (rooms saved before owners existed may
 * hold messages without one).
 */
async function holdsNothing(c: ChatRoomConnectContext): Promise<boolean> {
	if ((c.state.owner ?? null) !== null) return false;
	const [row] = await c.db.select({ id: messages.id }).from(messages).limit(1);
	return row === undefined;
}

/**
 * Browsers always send `Origin`, so a page on another site cannot use a
 * visitor's browser to join rooms. Requests without one (node clients, curl)
 * are not browsers; their token is what guards against them.
 */
function checkOrigin(origin: string | null): void {
	if (origin !== null && !chatRoomSettings().allowedOrigins.includes(origin)) {
		throw new UserError("this origin may not open chat connections", { code: "origin_not_allowed" });
	}
}

/**
 * Refuses a new WebSocket beyond the room's or the user's cap. Counts open
 * ones only, so it is approximate under a burst of connects. A connection
 * whose token has expired does not count, and is closed here: it can no
 * longer read or post, and would otherwise hold its place until its client
 * left (the client reconnects with a fresh token, if it has one).
 */
function checkConnectionCaps(c: ChatRoomConnectContext, userId: string): void {
	let room = 0;
	let mine = 0;
	const now = Date.now();
	for (const conn of c.conns.values()) {
		// rivetkit 2.3.19 types the connections seen from createConnState with
		// `unknown` state; every connection of this actor has a ChatConnState
		// (the one being admitted is not among them yet: the caps test counts
		// exactly MAX_CONNECTIONS_PER_USER).
		const state = conn.state as ChatConnState;
		if (!state.live) continue;
		if (!stillValid(state, now)) {
			closeExpired(conn);
			continue;
		}
		room++;
		if (state.userId === userId) mine++;
	}
	if (room >= MAX_ROOM_CONNECTIONS) {
		throw new UserError(`this room has ${MAX_ROOM_CONNECTIONS} connections already`, { code: "too_many_connections" });
	}
	if (mine >= MAX_CONNECTIONS_PER_USER) {
		throw new UserError(`at most ${MAX_CONNECTIONS_PER_USER} connections per user and room`, {
			code: "too_many_connections",
		});
	}
}

/**
 * Sends an event to the WebSocket connections its `CHAT_ROOM_ACCESS` rule
 * lets read it (a signed-in person whose token has not expired), and closes
 * those whose token has expired.
 */
function sendToReaders<E extends "message" | "presence">(
	c: ChatRoomContext,
	name: E,
	payload: E extends "message" ? ChatMessage : ChatPresence,
	exceptConnId?: string,
): void {
	sendToAllowed(c.conns.values(), CHAT_ROOM_ACCESS[name], {}, (conn) => conn.send(name, payload), {
		exceptConnId,
		closeExpired: true,
	});
}

/**
 * Announces a join or leave to the room, within `PRESENCE_EVENTS_PER_SECOND`.
 * Over the limit, the change waits (a later one replaces it) and goes out
 * with the online list of the moment it is sent: members may see a change
 * late, never a wrong list.
 */
function announce(c: ChatRoomContext, change: PresenceChange, exceptConnId?: string): void {
	if (c.vars.presenceLater === null && c.vars.presence.take(PRESENCE_LIMIT_KEY)) {
		sendToReaders(c, "presence", { ...change, online: onlineNames(c) }, exceptConnId);
		return;
	}
	if (c.vars.presenceLater !== null) {
		c.vars.presenceLater.change = change;
		return;
	}
	const later = () => {
		const pending = c.vars.presenceLater;
		if (pending === null) return;
		if (!c.vars.presence.take(PRESENCE_LIMIT_KEY)) {
			pending.timer = setTimeout(later, PRESENCE_RETRY_MS);
			return;
		}
		c.vars.presenceLater = null;
		sendToReaders(c, "presence", { ...pending.change, online: onlineNames(c) });
	};
	c.vars.presenceLater = { change, timer: setTimeout(later, PRESENCE_RETRY_MS) };
}

/**
 * Retention: once the room holds more than its cap (`MAX_ROOM_MESSAGES`,
 * or the lower `CHAT_ROOM_MAX_MESSAGES`), the oldest message of the author
 * who holds the most messages goes, one per message over. An honest author
 * then keeps their newest messages for as long as any other author holds
 * more: a burst of k new identities can bring an author down to no fewer
 * than cap / (k + 1) messages, never wipe the room (docs/actors.md).
 * `newestId` is the row just inserted: ids only grow, so a room whose
 * newest id is within the cap cannot be over it, and needs no count.
 */
async function enforceRetention(c: ChatRoomActionContext, newestId: number): Promise<void> {
	const cap = chatRoomSettings().maxMessages;
	if (newestId <= cap) return;
	const [total] = await c.db.select({ n: count() }).from(messages);
	for (let over = (total?.n ?? 0) - cap; over > 0; over--) {
		// The author holding the most; of equals, the one whose messages are oldest.
		const [top] = await c.db
			.select({ userId: messages.userId, oldest: min(messages.id) })
			.from(messages)
			.groupBy(messages.userId)
			.orderBy(desc(count()), asc(min(messages.id)))
			.limit(1);
		if (top?.oldest == null) return;
		await c.db.delete(messages).where(eq(messages.id, top.oldest));
	}
}

/** User ids with a WebSocket connection open. `c.conns` also holds in-flight stateless calls. */
function onlineUserIds(c: ChatRoomContext, exceptConnId?: string): string[] {
	const ids = new Set<string>();
	for (const conn of c.conns.values()) {
		if (conn.state.live && conn.id !== exceptConnId) ids.add(conn.state.userId);
	}
	return [...ids];
}

/** Display names of the users online, one per user, sorted. */
function onlineNames(c: ChatRoomContext): string[] {
	const names = new Map<string, string>();
	for (const conn of c.conns.values()) if (conn.state.live) names.set(conn.state.userId, conn.state.name);
	return [...names.values()].sort();
}

async function findByRequestId(
	c: ChatRoomActionContext,
	userId: string,
	requestId: string | null,
): Promise<MessageRow> {
	const [row] =
		requestId === null
			? []
			: await c.db
					.select()
					.from(messages)
					.where(and(eq(messages.userId, userId), eq(messages.requestId, requestId)))
					.limit(1);
	// The insert only skips a row when this (userId, requestId) exists.
	if (!row) throw new Error("postMessage: insert skipped but no earlier message matches");
	return row;
}

async function latestMessageId(c: ChatRoomActionContext): Promise<number> {
	const [row] = await c.db.select({ id: messages.id }).from(messages).orderBy(desc(messages.id)).limit(1);
	return row?.id ?? 0;
}

/**
 * Each user's last-read message id lives in the actor's KV store, keyed by
 * the user id from their token. In rivetkit 2.3 KV is deprecated as a general
 * store ("use SQLite or state"); what is left is a low-level escape hatch:
 * durable get/put of a value by key, nothing more. That is exactly this data:
 * one small number per user, read and written by its key, never queried
 * across users. State would grow with every user who ever joined; a table
 * would be a schema and a migration for a key-value pair. Each `put` is
 * durable when it resolves.
 */
function lastReadKey(userId: string): string {
	return `last-read/${userId}`;
}

function toChatMessage(row: MessageRow): ChatMessage {
	return { id: row.id, userId: row.userId, username: row.username, text: row.text, createdAt: row.createdAt };
}
