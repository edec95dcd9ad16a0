// The chat room's settings, read from the server's environment.
//
// Read on first use (inside a hook), never when the module is imported: the
// registry must be importable by scripts, tests and bundlers without touching
// or validating the environment. `src/server.ts` calls `chatRoomSettings()` at
// boot through `checkActorSettings()` (src/registry.ts), so a bad value still
// stops the server at start-up rather than at the first connection.

import { z } from "zod";
import { parseSettings } from "../../settings.ts";
import { MAX_ROOM_MESSAGES } from "./contract.ts";

/** Fewest messages `CHAT_ROOM_MAX_MESSAGES` may keep. */
export const MIN_ROOM_MESSAGES = 10;

/** Origins the local dev server and the Vite dev server use. */
const DEFAULT_ALLOWED_ORIGINS =
	"http://127.0.0.1:3000,http://localhost:3000,http://127.0.0.1:5173,http://localhost:5173";

const schema = z.object({
	/** Comma-separated origins allowed to connect to chat rooms from a browser. */
	ALLOWED_ORIGINS: z.string().default(DEFAULT_ALLOWED_ORIGINS),
	/**
	 * Messages a room keeps: `MAX_ROOM_MESSAGES` unless lowered (a smaller
	 * deployment, or a test of retention that cannot post 10,000 messages).
	 */
	CHAT_ROOM_MAX_MESSAGES: z.coerce
		.number()
		.int()
		.min(MIN_ROOM_MESSAGES)
		.max(MAX_ROOM_MESSAGES)
		.default(MAX_ROOM_MESSAGES),
});

export interface ChatRoomSettings {
	allowedOrigins: string[];
	/** Messages a room keeps (see `MAX_ROOM_MESSAGES`). */
	maxMessages: number;
}

/** Parses the settings from `source`. Pure, so tests can feed it any record. */
export function parseChatRoomSettings(source: Record<string, string | undefined>): ChatRoomSettings {
	const s = parseSettings(schema, source);
	return {
		allowedOrigins: s.ALLOWED_ORIGINS.split(",")
			.map((o) => o.trim())
			.filter((o) => o.length > 0),
		maxMessages: s.CHAT_ROOM_MAX_MESSAGES,
	};
}

let cached: ChatRoomSettings | undefined;

/** The settings from `process.env`, parsed once on first use. */
export function chatRoomSettings(): ChatRoomSettings {
	cached ??= parseChatRoomSettings(process.env);
	return cached;
}
