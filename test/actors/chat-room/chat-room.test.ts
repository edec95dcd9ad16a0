import { describe, expect, test } from "vitest";
import type { ChatMessage, ChatPresence } from "../../../src/actors/chat-room/contract.ts";
import { testClient, uniqueKey } from "../../support.ts";
import { firstWebSocketMessage, rawAction, sleepActor } from "../helpers.ts";

// The test server runs with the default ALLOWED_ORIGINS (local dev origins).
const ALLOWED_ORIGIN = "http://localhost:5173";
const FOREIGN_ORIGIN = "https://evil.example";

function room(username: string, key = [uniqueKey("room")]) {
	return { key, handle: testClient().chatRoom.getOrCreate(key, { params: { username } }) };
}

describe("chatRoom messages", () => {
	test("postMessage stores and returns the message; history and info see it", async () => {
		const { handle } = room("alice");
		const posted = await handle.postMessage("  hello room  ");
		expect(posted).toMatchObject({ username: "alice", text: "hello room" });
		expect(await handle.history({ limit: 10 })).toEqual({ messages: [posted], hasMore: false });
		expect(await handle.info()).toMatchObject({ messageCount: 1, online: [] });
	});

	test("a repeated requestId stores one message and returns it again", async () => {
		const { key, handle } = room("alice");
		const first = await handle.postMessage("only once", { requestId: "req-1" });
		expect(await handle.postMessage("only once", { requestId: "req-1" })).toEqual(first);
		// The key is per user: bob's req-1 is a different message.
		const bob = testClient().chatRoom.getOrCreate(key, { params: { username: "bob" } });
		const bobs = await bob.postMessage("mine", { requestId: "req-1" });
		expect(bobs.id).not.toBe(first.id);
		expect((await handle.history({ limit: 10 })).messages).toEqual([first, bobs]);
	});

	test("history pages backwards by id, oldest first within a page", async () => {
		const { handle } = room("alice");
		const posted: ChatMessage[] = [];
		for (let i = 1; i <= 25; i++) posted.push(await handle.postMessage(`message ${i}`));

		const newest = await handle.history({ limit: 10 });
		expect(newest).toEqual({ messages: posted.slice(15), hasMore: true });
		const middle = await handle.history({ before: newest.messages[0]?.id, limit: 10 });
		expect(middle).toEqual({ messages: posted.slice(5, 15), hasMore: true });
		const oldest = await handle.history({ before: middle.messages[0]?.id, limit: 10 });
		expect(oldest).toEqual({ messages: posted.slice(0, 5), hasMore: false });
	});

	test("markRead and unreadCount track each user's read position", async () => {
		const { key, handle: alice } = room("alice");
		const bob = testClient().chatRoom.getOrCreate(key, { params: { username: "bob" } });
		const [m1, m2] = [await alice.postMessage("one"), await alice.postMessage("two")];
		await alice.postMessage("three");
		await bob.postMessage("bob's own message does not count for bob");
		expect(await bob.unreadCount()).toBe(3);
		await bob.markRead(m2.id);
		expect(await bob.unreadCount()).toBe(1);
		// Never moves back.
		await bob.markRead(m1.id);
		expect(await bob.unreadCount()).toBe(1);
		// Alice's marker is her own.
		expect(await alice.unreadCount()).toBe(1);
	});

	test("setTitle changes what info reports", async () => {
		const { key, handle } = room("alice");
		expect((await handle.info()).title).toBe(key[0]);
		await handle.setTitle("  Release planning ");
		expect(await handle.info()).toMatchObject({ roomId: key[0], title: "Release planning" });
	});
});

describe("chatRoom bad input", () => {
	test("bad arguments are rejected with invalid_input and change nothing", async () => {
		const { handle } = room("alice");
		const kept = await handle.postMessage("keep me");
		await handle.setTitle("Title");
		const calls: Array<() => Promise<unknown>> = [
			() => handle.postMessage(""),
			() => handle.postMessage("   "),
			() => handle.postMessage("x".repeat(2_001)),
			() => handle.postMessage(42 as unknown as string),
			() => handle.postMessage("ok", { requestId: "" }),
			() => handle.postMessage("ok", { unknown: true } as unknown as { requestId?: string }),
			() => handle.history({ limit: 0 }),
			() => handle.history({ limit: 101 }),
			() => handle.history({ before: -1, limit: 5 }),
			() => handle.history(undefined as unknown as { limit: number }),
			() => handle.markRead(0),
			() => handle.markRead(1.5),
			() => handle.setTitle(""),
			() => handle.setTitle("t".repeat(101)),
		];
		for (const call of calls) await expect(call()).rejects.toMatchObject({ group: "user", code: "invalid_input" });
		await expect(handle.markRead(kept.id + 1)).rejects.toMatchObject({ code: "unknown_message" });
		expect(await handle.history({ limit: 10 })).toEqual({ messages: [kept], hasMore: false });
		expect(await handle.info()).toMatchObject({ title: "Title", messageCount: 1 });
		expect(await handle.unreadCount()).toBe(0);
	});

	test("a missing or invalid username is rejected over stateless HTTP and over WebSocket", async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		for (const params of [undefined, {}, { username: "" }, { username: "has space" }, { username: "x".repeat(33) }]) {
			const handle = client.chatRoom.getOrCreate(key, { params: params as { username: string } });
			await expect(handle.info()).rejects.toMatchObject({ group: "user", code: "invalid_username" });
		}

		const conn = client.chatRoom.getOrCreate(key, { params: { username: "no spaces allowed" } }).connect();
		const errors: string[] = [];
		conn.onError((error) => errors.push(error.code));
		await expect(conn.info()).rejects.toMatchObject({ code: "invalid_username" });
		expect(errors).toContain("invalid_username");
		await conn.dispose();
		// Nothing was created by the rejected callers.
		const ok = client.chatRoom.getOrCreate(key, { params: { username: "alice" } });
		expect(await ok.info()).toMatchObject({ messageCount: 0, online: [] });
	});

	test("a foreign Origin is rejected over stateless HTTP and over WebSocket; allowed or absent ones pass", async () => {
		const { handle } = room("alice");
		const actorId = await handle.resolve();
		const params = { username: "alice" };

		const foreign = await rawAction(actorId, "info", [], { params, headers: { origin: FOREIGN_ORIGIN } });
		expect(foreign.body).toMatchObject({ group: "user", code: "origin_not_allowed" });
		const allowed = await rawAction(actorId, "info", [], { params, headers: { origin: ALLOWED_ORIGIN } });
		expect(allowed).toMatchObject({ status: 200, body: { output: { messageCount: 0 } } });
		const noOrigin = await rawAction(actorId, "info", [], { params });
		expect(noOrigin.status).toBe(200);

		expect(await firstWebSocketMessage(actorId, params, FOREIGN_ORIGIN)).toMatchObject({
			body: { tag: "Error", val: { group: "user", code: "origin_not_allowed" } },
		});
		expect(await firstWebSocketMessage(actorId, params, ALLOWED_ORIGIN)).toMatchObject({
			body: { tag: "Init", val: { actorId } },
		});
		// A foreign page could not post either.
		const post = await rawAction(actorId, "postMessage", ["spam"], { params, headers: { origin: FOREIGN_ORIGIN } });
		expect(post.body).toMatchObject({ code: "origin_not_allowed" });
		expect((await handle.info()).messageCount).toBe(0);
	});
});

describe("chatRoom live connections", () => {
	test("two connected users see each other's messages and presence; stateless calls are not presence", async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		const alice = client.chatRoom.getOrCreate(key, { params: { username: "alice" } }).connect();
		const seenByAlice = { messages: [] as ChatMessage[], presence: [] as ChatPresence[] };
		alice.on("message", (m) => seenByAlice.messages.push(m));
		alice.on("presence", (p) => seenByAlice.presence.push(p));
		expect((await alice.info()).online).toEqual(["alice"]);

		const bob = client.chatRoom.getOrCreate(key, { params: { username: "bob" } }).connect();
		const seenByBob = { messages: [] as ChatMessage[] };
		bob.on("message", (m) => seenByBob.messages.push(m));
		// A call on the connection is sent after its subscriptions, so once it
		// returns, bob receives every later message.
		expect((await bob.info()).online).toEqual(["alice", "bob"]);
		await expect
			.poll(() => seenByAlice.presence)
			.toEqual([{ username: "bob", kind: "join", online: ["alice", "bob"] }]);

		const fromAlice = await alice.postMessage("hi bob");
		const fromBob = await bob.postMessage("hi alice");
		await expect.poll(() => seenByAlice.messages).toEqual([fromAlice, fromBob]);
		await expect.poll(() => seenByBob.messages).toEqual([fromAlice, fromBob]);

		// A stateless call "connects" for its duration, but is nobody arriving.
		const carol = client.chatRoom.getOrCreate(key, { params: { username: "carol" } });
		expect((await carol.info()).online).toEqual(["alice", "bob"]);

		await bob.dispose();
		await expect
			.poll(() => seenByAlice.presence)
			.toEqual([
				{ username: "bob", kind: "join", online: ["alice", "bob"] },
				{ username: "bob", kind: "leave", online: ["alice"] },
			]);
		expect((await carol.info()).online).toEqual(["alice"]);
		await alice.dispose();
	});

	test("a user's other tabs are not announced: one join, one leave when the last tab closes", async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		const connectAs = (username: string) => client.chatRoom.getOrCreate(key, { params: { username } }).connect();
		const watcher = connectAs("watcher");
		const presence: string[] = [];
		watcher.on("presence", (p) => presence.push(`${p.username}:${p.kind}`));
		await watcher.info();

		const tab1 = connectAs("dana");
		await expect.poll(() => presence).toEqual(["dana:join"]);
		const tab2 = connectAs("dana");
		expect((await tab2.info()).online).toEqual(["dana", "watcher"]);
		await tab1.dispose();
		// Events arrive in order: once erin's join is here, a leave for dana would be too.
		const erin = connectAs("erin");
		await expect.poll(() => presence).toEqual(["dana:join", "erin:join"]);

		// Two tabs closing at once (a browser window) still make one leave.
		const tab3 = connectAs("dana");
		await tab3.info();
		await Promise.all([tab2.dispose(), tab3.dispose()]);
		await erin.dispose();
		await expect.poll(() => presence).toEqual(["dana:join", "erin:join", "dana:leave", "erin:leave"]);
		await watcher.dispose();
	});
});

describe("chatRoom persistence", () => {
	test("messages, title and read markers survive the actor sleeping", async () => {
		const { key, handle: alice } = room("alice");
		const bob = testClient().chatRoom.getOrCreate(key, { params: { username: "bob" } });
		const posted: ChatMessage[] = [];
		for (let i = 1; i <= 12; i++) posted.push(await alice.postMessage(`before sleep ${i}`));
		await alice.setTitle("Persistent room");
		await bob.markRead(posted[9]?.id ?? 0);

		await sleepActor(await alice.resolve());

		expect(await alice.info()).toMatchObject({ title: "Persistent room", messageCount: 12 });
		const page = await alice.history({ limit: 5 });
		expect(page).toEqual({ messages: posted.slice(7), hasMore: true });
		expect(await alice.history({ before: page.messages[0]?.id, limit: 10 })).toEqual({
			messages: posted.slice(0, 7),
			hasMore: false,
		});
		expect(await bob.unreadCount()).toBe(2);
		// Ids keep growing after the wake.
		expect((await alice.postMessage("after wake")).id).toBeGreaterThan(posted[11]?.id ?? 0);
	});
});
