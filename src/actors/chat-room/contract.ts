// What a client of a chat room may rely on: the limits it enforces, the
// username rule, what a client passes when it connects, and the shapes of its
// events and action results. Browser-importable (the web app's Chat panel
// imports it), so it imports nothing: no rivetkit, no node built-ins.

/** Longest message, in characters. */
export const MAX_MESSAGE_LENGTH = 2_000;
/** Most messages one `history` page returns. */
export const MAX_HISTORY_PAGE = 100;
/** Longest room title, in characters. */
export const MAX_TITLE_LENGTH = 100;

/**
 * The username rule as an HTML `pattern` attribute (implicitly anchored).
 * The hyphen is escaped because browsers compile `pattern` with the `v`
 * flag, where an unescaped `-` at the end of a class is a syntax error.
 */
export const USERNAME_HTML_PATTERN = "[A-Za-z0-9_.\\-]{1,32}";
/** The same rule as a RegExp: 1-32 letters, digits, `_`, `.` or `-`. */
export const USERNAME_PATTERN = new RegExp(`^${USERNAME_HTML_PATTERN}$`);

export interface ChatMessage {
	id: number;
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
	username: string;
	kind: "join" | "leave";
	/** Everyone connected after this change, sorted. */
	online: string[];
}

export interface ChatRoomInfo {
	roomId: string;
	title: string;
	messageCount: number;
	online: string[];
}

/** What a client passes when it connects or calls (`getOrCreate(key, { params })`). */
export interface ChatConnParams {
	username: string;
	/** Required when the server sets `CHAT_TOKEN`. */
	token?: string;
}
