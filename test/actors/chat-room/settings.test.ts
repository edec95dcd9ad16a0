// The chat room parses its own settings (a pure function, fed records here);
// the server's boot check and the room's first connection both go through it.

import { describe, expect, test } from "vitest";
import { parseChatRoomSettings } from "../../../src/actors/chat-room/settings.ts";
import { SettingsError } from "../../../src/actors/validate.ts";

describe("chat room settings", () => {
	test("default to the local dev origins and no token", () => {
		expect(parseChatRoomSettings({})).toEqual({
			allowedOrigins: [
				"http://127.0.0.1:3000",
				"http://localhost:3000",
				"http://127.0.0.1:5173",
				"http://localhost:5173",
			],
			chatToken: undefined,
		});
	});

	test("ALLOWED_ORIGINS is a comma-separated list; an empty CHAT_TOKEN means unset", () => {
		const settings = parseChatRoomSettings({
			ALLOWED_ORIGINS: " https://a.example , ,https://b.example",
			CHAT_TOKEN: "",
		});
		expect(settings).toEqual({ allowedOrigins: ["https://a.example", "https://b.example"], chatToken: undefined });
		expect(parseChatRoomSettings({ CHAT_TOKEN: " s3cret " }).chatToken).toBe("s3cret");
	});

	test("a blank CHAT_TOKEN is refused with one line naming it", () => {
		try {
			parseChatRoomSettings({ CHAT_TOKEN: "   " });
			expect.unreachable("a blank token was accepted");
		} catch (error) {
			expect(error).toBeInstanceOf(SettingsError);
			expect((error as SettingsError).lines.map((l) => l.trim().split(":")[0])).toEqual(["CHAT_TOKEN"]);
		}
	});
});
