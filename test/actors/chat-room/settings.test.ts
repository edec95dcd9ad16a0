// The chat room parses its own settings (a pure function, fed records here);
// the server's boot check and the room's first connection both go through it.

import { describe, expect, test } from "vitest";
import { MAX_ROOM_MESSAGES } from "../../../src/actors/chat-room/contract.ts";
import { MIN_ROOM_MESSAGES, parseChatRoomSettings } from "../../../src/actors/chat-room/settings.ts";

describe("chat room settings", () => {
	test("default to the local dev origins and MAX_ROOM_MESSAGES kept", () => {
		expect(parseChatRoomSettings({})).toEqual({
			allowedOrigins: [
				"http://127.0.0.1:3000",
				"http://localhost:3000",
				"http://127.0.0.1:5173",
				"http://localhost:5173",
			],
			maxMessages: MAX_ROOM_MESSAGES,
		});
	});

	test("ALLOWED_ORIGINS is a comma-separated list; an empty one means the default", () => {
		const settings = parseChatRoomSettings({ ALLOWED_ORIGINS: " https://a.example , ,https://b.example" });
		expect(settings.allowedOrigins).toEqual(["https://a.example", "https://b.example"]);
		expect(parseChatRoomSettings({ ALLOWED_ORIGINS: "" }).allowedOrigins).toHaveLength(4);
	});

	test("CHAT_ROOM_MAX_MESSAGES may lower what a room keeps, never raise it", () => {
		expect(parseChatRoomSettings({ CHAT_ROOM_MAX_MESSAGES: "20" }).maxMessages).toBe(20);
		expect(() => parseChatRoomSettings({ CHAT_ROOM_MAX_MESSAGES: String(MAX_ROOM_MESSAGES + 1) })).toThrow(
			/CHAT_ROOM_MAX_MESSAGES/,
		);
		expect(() => parseChatRoomSettings({ CHAT_ROOM_MAX_MESSAGES: String(MIN_ROOM_MESSAGES - 1) })).toThrow(
			/CHAT_ROOM_MAX_MESSAGES/,
		);
	});

	test("the shared CHAT_TOKEN is gone: chat trusts each user's own token instead", () => {
		// An old .env that still sets it changes nothing.
		expect(parseChatRoomSettings({ CHAT_TOKEN: "s3cret" })).toEqual(parseChatRoomSettings({}));
	});
});
