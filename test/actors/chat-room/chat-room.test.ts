import { describe, expect, test } from "vitest";
import type { ChatMessage, ChatPresence } from "../../../src/actors/chat-room/contract.ts";
import { MAX_CONNECTIONS_PER_USER } from "../../../src/actors/chat-room/contract.ts";
import type { SignedIn } from "../../../tools/client/auth.ts";
import { testClient, uniqueKey } from "../../support.ts";
import { disposeConnections, firstWebSocketMessage, rawAction, signInAs, sleepActor } from "../helpers.ts";

// The test server runs with the default ALLOWED_ORIGINS (local dev origins).
const ALLOWED_ORIGIN = "http://localhost:5173";
const FOREIGN_ORIGIN = "https://evil.example";

function roomFor(user: SignedIn, key: string[]) {
	return testClient().chatRoom.getOrCreate(key, { params: user.params });
}

async function room(name: string, key = [uniqueKey("room")]) {
	const user = await signInAs(name);
	return { key, user, handle: roomFor(user, key) };
}

describe("chatRoom messages", () => {
	test("postMessage stores the message as the signed-in user; history and info see it", async () => {
		const { user, handle } = await room("alice");
		const posted = await handle.postMessage("  hello room  ");
		expect(posted).toMatchObject({ userId: user.userId, username: "alice", text: "hello room" });
		expect(await handle.history({ limit: 10 })).toEqual({ messages: [posted], hasMore: false });
		expect(await handle.info()).toMatchObject({ owner: user.userId, messageCount: 1, online: [] });
	});

	test("a repeated requestId stores one message and returns it again; keys are per user, not per name", async () => {
		const { key, handle } = await room("alice");
		const first = await handle.postMessage("only once", { requestId: "req-1" });
		expect(await handle.postMessage("only once", { requestId: "req-1" })).toEqual(first);
		// Another person who also calls themselves alice: a different author.
		const otherAlice = roomFor(await signInAs("alice"), key);
		const theirs = await otherAlice.postMessage("mine", { requestId: "req-1" });
		expect(theirs.id).not.toBe(first.id);
		expect(theirs.userId).not.toBe(first.userId);
		expect((await handle.history({ limit: 10 })).messages).toEqual([first, theirs]);
	});

	test("history pages backwards by id, oldest first within a page", async () => {
		const { handle } = await room("alice");
		const posted: ChatMessage[] = [];
		for (let i = 1; i <= 25; i++) posted.push(await handle.postMessage(`message ${i}`));

		const newest = await handle.history({ limit: 10 });
		expect(newest).toEqual({ messages: posted.slice(15), hasMore: true });
		const middle = await handle.history({ before: newest.messages[0]?.id, limit: 10 });
		expect(middle).toEqual({ messages: posted.slice(5, 15), hasMore: true });
		const oldest = await handle.history({ before: middle.messages[0]?.id, limit: 10 });
		expect(oldest).toEqual({ messages: posted.slice(0, 5), hasMore: false });
	});

	test("markRead and unreadCount track each user's own read position", async () => {
		const { key, handle: alice } = await room("alice");
		const bob = roomFor(await signInAs("bob"), key);
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

	test("the owner renames the room; another user may not", async () => {
		const { key, handle } = await room("alice");
		expect((await handle.info()).title).toBe(key[0]);
		await handle.setTitle("  Release planning ");
		expect(await handle.info()).toMatchObject({ roomId: key[0], title: "Release planning" });
		const bob = roomFor(await signInAs("bob"), key);
		await expect(bob.setTitle("Mine now")).rejects.toMatchObject({ group: "user", code: "forbidden" });
		expect((await bob.info()).title).toBe("Release planning");
	});
});

describe("chatRoom bad input", () => {
	test("bad arguments are rejected with invalid_input and change nothing", async () => {
		const { handle } = await room("alice");
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

	test("missing or malformed connection params are unauthenticated over stateless HTTP and over WebSocket", async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		for (const params of [undefined, {}, { username: "alice" }, { token: "" }, { token: "not.a.jwt" }]) {
			const handle = client.chatRoom.getOrCreate(key, { params: params as { token: string } });
			await expect(handle.info()).rejects.toMatchObject({ group: "user", code: "unauthenticated" });
		}

		const conn = client.chatRoom.getOrCreate(key, { params: { token: "forged" } }).connect();
		const errors: string[] = [];
		conn.onError((error) => errors.push(error.code));
		await expect(conn.info()).rejects.toMatchObject({ code: "unauthenticated" });
		expect(errors).toContain("unauthenticated");
		await disposeConnections(conn);
		// Nothing was created by the rejected callers.
		expect(await roomFor(await signInAs("alice"), key).info()).toMatchObject({
			owner: null,
			messageCount: 0,
			online: [],
		});
	});

	test("a foreign Origin is rejected over stateless HTTP and over WebSocket; allowed or absent ones pass", async () => {
		const { user, handle } = await room("alice");
		const actorId = await handle.resolve();
		const { params } = user;

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
		const [aliceUser, bobUser, carolUser] = [await signInAs("alice"), await signInAs("bob"), await signInAs("carol")];
		const alice = client.chatRoom.getOrCreate(key, { params: aliceUser.params }).connect();
		const seenByAlice = { messages: [] as ChatMessage[], presence: [] as ChatPresence[] };
		alice.on("message", (m) => seenByAlice.messages.push(m));
		alice.on("presence", (p) => seenByAlice.presence.push(p));
		expect((await alice.info()).online).toEqual(["alice"]);

		const bob = client.chatRoom.getOrCreate(key, { params: bobUser.params }).connect();
		const seenByBob = { messages: [] as ChatMessage[] };
		bob.on("message", (m) => seenByBob.messages.push(m));
		// A call on the connection is sent after its subscriptions, so once it
		// returns, bob receives every later message.
		expect((await bob.info()).online).toEqual(["alice", "bob"]);
		const bobJoin = { userId: bobUser.userId, username: "bob", kind: "join", online: ["alice", "bob"] };
		await expect.poll(() => seenByAlice.presence).toEqual([bobJoin]);

		const fromAlice = await alice.postMessage("hi bob");
		const fromBob = await bob.postMessage("hi alice");
		await expect.poll(() => seenByAlice.messages).toEqual([fromAlice, fromBob]);
		await expect.poll(() => seenByBob.messages).toEqual([fromAlice, fromBob]);

		// A stateless call "connects" for its duration, but is nobody arriving.
		const carol = client.chatRoom.getOrCreate(key, { params: carolUser.params });
		expect((await carol.info()).online).toEqual(["alice", "bob"]);

		await bob.dispose();
		await expect
			.poll(() => seenByAlice.presence)
			.toEqual([bobJoin, { userId: bobUser.userId, username: "bob", kind: "leave", online: ["alice"] }]);
		expect((await carol.info()).online).toEqual(["alice"]);
		await alice.dispose();
	});

	test("a user's other tabs are not announced: one join, one leave when the last tab closes", async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		const users = { watcher: await signInAs("watcher"), dana: await signInAs("dana"), erin: await signInAs("erin") };
		const connectAs = (who: keyof typeof users) =>
			client.chatRoom.getOrCreate(key, { params: users[who].params }).connect();
		const watcher = connectAs("watcher");
		const presence: string[] = [];
		watcher.on("presence", (p) => presence.push(`${p.username}:${p.kind}`));
		await watcher.info();

		const tab1 = connectAs("dana");
		await expect.poll(() => presence).toEqual(["dana:join"]);
		const tab2 = connectAs("dana");
		expect((await tab2.info()).online).toEqual(["dana", "watcher"]);
		await tab1.dispose();
		// A leave for dana (there must be none while tab2 is open) would show in
		// the exact lists below, whenever the actor learns that tab1 closed.
		const erin = connectAs("erin");
		await expect.poll(() => presence).toEqual(["dana:join", "erin:join"]);

		// Two tabs closing at once (a browser window) still make one leave.
		const tab3 = connectAs("dana");
		await tab3.info();
		await Promise.all([tab2.dispose(), tab3.dispose()]);
		// Each connection is its own WebSocket, so the actor may learn of closes
		// in another order than the client closed them: wait for dana's leave
		// (sent only once both tabs are gone) before erin leaves.
		await expect.poll(() => presence).toEqual(["dana:join", "erin:join", "dana:leave"]);
		await erin.dispose();
		// The watcher's events arrive in the order the actor sent them, and the
		// actor had both tabs' closes before dana's leave: a second leave for
		// dana would come before erin's.
		await expect.poll(() => presence).toEqual(["dana:join", "erin:join", "dana:leave", "erin:leave"]);
		await watcher.dispose();
	});

	test(`one user may hold ${MAX_CONNECTIONS_PER_USER} connections to a room; the next is refused`, async () => {
		const { key, user } = await room("tabs");
		const client = testClient();
		const conns = [];
		for (let i = 0; i < MAX_CONNECTIONS_PER_USER; i++) {
			const conn = client.chatRoom.getOrCreate(key, { params: user.params }).connect();
			await conn.info();
			conns.push(conn);
		}
		const extra = client.chatRoom.getOrCreate(key, { params: user.params }).connect();
		await expect(extra.info()).rejects.toMatchObject({ group: "user", code: "too_many_connections" });
		await disposeConnections(extra);
		// Another user is not affected, and stateless calls are not counted.
		const other = client.chatRoom.getOrCreate(key, { params: (await signInAs("other")).params }).connect();
		expect((await other.info()).online).toEqual(["other", "tabs"]);
		expect((await roomFor(user, key).info()).online).toEqual(["other", "tabs"]);
		await Promise.all([...conns, other].map((c) => c.dispose()));
	});
});

describe("chatRoom persistence", () => {
	test("messages, title, owner and read markers survive the actor sleeping", async () => {
		const { key, user, handle: alice } = await room("alice");
		const bob = roomFor(await signInAs("bob"), key);
		const posted: ChatMessage[] = [];
		for (let i = 1; i <= 12; i++) posted.push(await alice.postMessage(`before sleep ${i}`));
		await alice.setTitle("Persistent room");
		await bob.markRead(posted[9]?.id ?? 0);

		await sleepActor(await alice.resolve());

		expect(await alice.info()).toMatchObject({ title: "Persistent room", owner: user.userId, messageCount: 12 });
		const page = await alice.history({ limit: 5 });
		expect(page).toEqual({ messages: posted.slice(7), hasMore: true });
		expect(await alice.history({ before: page.messages[0]?.id, limit: 10 })).toEqual({
			messages: posted.slice(0, 7),
			hasMore: false,
		});
		expect(await bob.unreadCount()).toBe(2);
		await expect(bob.setTitle("taken over")).rejects.toMatchObject({ code: "forbidden" });
		// Ids keep growing after the wake.
		expect((await alice.postMessage("after wake")).id).toBeGreaterThan(posted[11]?.id ?? 0);
	});
});
