// The chat room parses its own settings (a pure function, fed records here);
// the server's boot check and the room's first connection both go through it.

import { describe, expect, test } from "vitest";
import { parseChatRoomSettings } from "../../../src/actors/chat-room/settings.ts";

describe("chat room settings", () => {
	test("default to the local dev origins", () => {
		expect(parseChatRoomSettings({})).toEqual({
			allowedOrigins: [
				"http://127.0.0.1:3000",
				"http://localhost:3000",
				"http://127.0.0.1:5173",
				"http://localhost:5173",
			],
		});
	});

	test("ALLOWED_ORIGINS is a comma-separated list; an empty one means the default", () => {
		const settings = parseChatRoomSettings({ ALLOWED_ORIGINS: " https://a.example , ,https://b.example" });
		expect(settings).toEqual({ allowedOrigins: ["https://a.example", "https://b.example"] });
		expect(parseChatRoomSettings({ ALLOWED_ORIGINS: "" }).allowedOrigins).toHaveLength(4);
	});

	test("the shared CHAT_TOKEN is gone: chat trusts each user's own token instead", () => {
		// An old .env that still sets it changes nothing.
		expect(parseChatRoomSettings({ CHAT_TOKEN: "s3cret" })).toEqual(parseChatRoomSettings({}));
	});
});
