// What a client of a chat room may rely on: the limits it enforces, who may
// call what, what a client passes when it connects, and the shapes of its
// events and action results. Browser-importable (the web app's Chat panel
// imports it), so it imports nothing but the pure access vocabulary: no
// rivetkit, no node built-ins.

import type { AccessTable } from "../access-contract.ts";

/** Longest message, in characters. */
export const MAX_MESSAGE_LENGTH = 2_000;
/** Most messages one `history` page returns. */
export const MAX_HISTORY_PAGE = 100;
/** Longest room title, in characters. */
export const MAX_TITLE_LENGTH = 100;
/**
 * Messages a room keeps. Posting beyond this deletes the oldest message of
 * the author who holds the most (see docs/actors.md, "Retention"): a flood
 * evicts its own messages first, so new identities cannot wipe a room.
 */
export const MAX_ROOM_MESSAGES = 10_000;
/** WebSocket connections one room accepts at once (stateless calls and connections whose token expired are not counted). */
export const MAX_ROOM_CONNECTIONS = 500;
/** WebSocket connections one user may hold open to one room at once (tabs, devices). */
export const MAX_CONNECTIONS_PER_USER = 8;
/** Presence events (join, leave) a room sends at once; beyond it they are folded into one catch-up event. */
export const PRESENCE_BURST = 20;
/** Presence events per second a room regains: connect/disconnect churn costs members at most this many. */
export const PRESENCE_EVENTS_PER_SECOND = 2;
/** Posts (and title changes) one user may make at once in one room. */
export const CHAT_POST_BURST = 30;
/** Posts per second one user regains in one room (in memory, per actor: see src/actors/rate-limit.ts). */
export const CHAT_POSTS_PER_SECOND = 1;

/**
 * The username rule as an HTML `pattern` attribute (implicitly anchored).
 * Chat no longer takes a username from the client (the author is the
 * signed-in user); the web app's join form still uses this for the name it
 * signs in with. The hyphen is escaped because browsers compile `pattern`
 * with the `v` flag, where an unescaped `-` at the end of a class is a
 * syntax error.
 */
export const USERNAME_HTML_PATTERN = "[A-Za-z0-9_.\\-]{1,32}";
/** The same rule as a RegExp: 1-32 letters, digits, `_`, `.` or `-`. */
export const USERNAME_PATTERN = new RegExp(`^${USERNAME_HTML_PATTERN}$`);

/**
 * Who may do what. Rooms are open: any signed-in user may join any room,
 * read it and post in it. The room's owner is the first user who posts in it
 * or names it; only the owner (and operators) may rename it. Becoming a
 * room's owner creates a room for the user's quota (`ROOMS_CREATED_PER_HOUR`
 * in ../quota/contract.ts): over it, the first post or rename is refused with
 * `rate_limited` (metadata `retryAfterMs`) and the room stays as it was.
 */
export const CHAT_ROOM_ACCESS = {
	postMessage: {
		kind: "action",
		callers: ["user"],
		rateLimit: "CHAT_POSTS_PER_SECOND",
		note: "the author is the token's user; the first poster becomes the owner, within ROOMS_CREATED_PER_HOUR (QUOTA_ACCESS.chargeCreation)",
	},
	history: { kind: "action", callers: ["user"] },
	info: { kind: "action", callers: ["user"] },
	markRead: { kind: "action", callers: ["self"], note: "moves the caller's own read marker" },
	unreadCount: { kind: "action", callers: ["self"] },
	setTitle: {
		kind: "action",
		callers: ["owner", "operator"],
		rateLimit: "CHAT_POSTS_PER_SECOND",
		note: "the first user to name a room without an owner becomes its owner, like the first poster",
	},
	message: { kind: "event", callers: ["user"], note: "sent only to connections whose token is still valid" },
	presence: {
		kind: "event",
		callers: ["user"],
		rateLimit: "PRESENCE_EVENTS_PER_SECOND",
		note: "sent only to connections whose token is still valid; changes over the limit are folded into one",
	},
} as const satisfies AccessTable;

export interface ChatMessage {
	id: number;
	/** The author's user id (from their token). */
	userId: string;
	/** The author's display name when they posted: a label, not an identity. */
	username: string;
	text: string;
	/** Epoch milliseconds. */
	createdAt: number;
}

export interface ChatHistoryPage {
	/** Oldest first. */
	messages: ChatMessage[];
	/** Whether older messages exist before the first one here. */
	hasMore: boolean;
}

export interface ChatPresence {
	userId: string;
	/** Display name. */
	username: string;
	kind: "join" | "leave";
	/**
	 * Display names of everyone connected after this change, one per user,
	 * sorted. When presence is over its rate limit, one event carries the
	 * latest change and everyone connected when it is sent.
	 */
	online: string[];
}

export interface ChatRoomInfo {
	roomId: string;
	title: string;
	/** The owner's user id, or null while nobody has posted or named the room. */
	owner: string | null;
	messageCount: number;
	online: string[];
}

/** What a client passes when it connects or calls (`getOrCreate(key, { params })`): an access token. */
export interface ChatConnParams {
	token: string;
}
