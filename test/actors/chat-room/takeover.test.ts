// Rooms that cannot be taken over (src/actors/chat-room/chat-room.ts): a
// room only an operator wrote is the operator's, only connections with a
// live token count toward the caps and expired ones are closed, presence is
// rate limited per room, and a burst of new identities evicts its own
// messages before anyone else's.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
	type ChatMessage,
	type ChatPresence,
	MAX_CONNECTIONS_PER_USER,
	PRESENCE_BURST,
	PRESENCE_EVENTS_PER_SECOND,
} from "../../../src/actors/chat-room/contract.ts";
import { DEV_AUTH_SECRET } from "../../../src/auth/settings.ts";
import { signUserToken } from "../../../src/auth/tokens.ts";
import type { RunningAppServer } from "../../../tools/local/app-server.ts";
import { startServerForPool } from "../../../tools/local/stack.ts";
import { engineUrl, testClient, uniqueKey } from "../../support.ts";
import { disposeConnections, signInAs, signInOperator } from "../helpers.ts";

/** A token lifetime that outlasts opening the connections below, on a loaded machine, and then runs out. */
const SHORT_TOKEN_TTL_S = 8;
/** Messages the retention test's server keeps (CHAT_ROOM_MAX_MESSAGES). */
const RETENTION_CAP = 20;

/** An access token for `userId`, minted in-process with the development secret the test servers run with. */
async function tokenFor(userId: string, name: string, ttlS?: number) {
	return signUserToken("access", { userId, name, role: "user" }, DEV_AUTH_SECRET, ttlS);
}

/** Opens the actor's client WebSocket as any program could, and resolves once the actor accepted it. */
async function openRawConnection(actorId: string, token: string): Promise<{ ws: WebSocket; closed: Promise<void> }> {
	const url = `${engineUrl().replace(/^http/, "ws")}/gateway/${actorId}/connect`;
	const params = encodeURIComponent(JSON.stringify({ token }));
	const ws = new WebSocket(url, ["rivet", "rivet_encoding.json", `rivet_conn_params.${params}`]);
	const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
	const first = await new Promise<unknown>((resolve, reject) => {
		ws.addEventListener("message", (event) => resolve(JSON.parse(String(event.data))), { once: true });
		void closed.then(() => reject(new Error("closed before the actor answered")));
	});
	expect(first).toMatchObject({ body: { tag: "Init" } });
	return { ws, closed };
}

describe("chat room ownership", () => {
	test("an operator who posts in a new room owns it: a user cannot claim it afterwards", async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		const operator = await signInOperator();
		const asOperator = client.chatRoom.getOrCreate(key, { params: operator.params });
		await asOperator.postMessage("announcements only");
		expect((await asOperator.info()).owner).toBe(operator.userId);
		const user = client.chatRoom.getOrCreate(key, { params: (await signInAs("claimer")).params });
		await expect(user.setTitle("mine now")).rejects.toMatchObject({ code: "forbidden" });
		expect((await user.info()).owner).toBe(operator.userId);
	});
});

describe("chat room caps count live tokens only", () => {
	test("connections whose token expired do not count toward the caps, and are closed", async () => {
		const client = testClient();
		const userId = `u_${uniqueKey("expiring")}`;
		const key = [uniqueKey("room")];
		const fresh = await tokenFor(userId, "tabs");
		const actorId = await client.chatRoom.getOrCreate(key, { params: { token: fresh.token } }).resolve();

		const short = await tokenFor(userId, "tabs", SHORT_TOKEN_TTL_S);
		const stale = await Promise.all(
			Array.from({ length: MAX_CONNECTIONS_PER_USER }, () => openRawConnection(actorId, short.token)),
		);
		try {
			// While they are valid, the user is at the cap.
			const extra = client.chatRoom.getOrCreate(key, { params: { token: fresh.token } }).connect();
			await expect(extra.info()).rejects.toMatchObject({ code: "too_many_connections" });
			await disposeConnections(extra);

			await expect.poll(() => Date.now() > short.expiresAt, { timeout: 30_000 }).toBe(true);
			// Expired, they neither count nor stay: the same user connects again.
			const conn = client.chatRoom.getOrCreate(key, { params: { token: fresh.token } }).connect();
			try {
				expect((await conn.info()).online).toEqual(["tabs"]);
				await Promise.all(stale.map((s) => s.closed));
			} finally {
				await disposeConnections(conn);
			}
		} finally {
			for (const s of stale) s.ws.close();
		}
	});
});

describe("chat room presence", () => {
	test(`churn is announced at most ${PRESENCE_BURST} at once and ${PRESENCE_EVENTS_PER_SECOND}/s after; the online list ends right`, async () => {
		const client = testClient();
		const key = [uniqueKey("room")];
		const observer = client.chatRoom
			.getOrCreate(key, { params: { token: (await tokenFor(`u_${uniqueKey("obs")}`, "watcher")).token } })
			.connect();
		const seen: ChatPresence[] = [];
		observer.on("presence", (p: ChatPresence) => seen.push(p));
		try {
			expect((await observer.info()).online).toEqual(["watcher"]);
			const started = Date.now();
			// More users than the burst, each arriving and leaving: twice as many changes.
			const users = PRESENCE_BURST + 10;
			const tokens = await Promise.all(
				Array.from({ length: users }, (_, i) => tokenFor(`u_${uniqueKey("churn")}`, `churn${i}`)),
			);
			const conns = tokens.map((t) => client.chatRoom.getOrCreate(key, { params: { token: t.token } }).connect());
			await Promise.all(conns.map((c) => c.info()));
			await disposeConnections(...conns);
			// Members learn the final state: the last event lists the observer alone.
			await expect.poll(() => seen.at(-1)?.online, { timeout: 30_000 }).toEqual(["watcher"]);
			const elapsedS = (Date.now() - started) / 1_000;
			const allowed = PRESENCE_BURST + Math.ceil(elapsedS * PRESENCE_EVENTS_PER_SECOND) + 1;
			console.log(
				`chat presence: ${2 * users} joins and leaves in ${elapsedS.toFixed(1)} s, ${seen.length} events sent (limit ${allowed})`,
			);
			expect(seen.length).toBeLessThanOrEqual(allowed);
			expect(seen.length).toBeLessThan(2 * users);
		} finally {
			await disposeConnections(observer);
		}
	});
});

describe("chat room retention under a flood of new identities", () => {
	const pool = uniqueKey("retention");
	let dataDir: string;
	let server: RunningAppServer | undefined;

	beforeAll(async () => {
		dataDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-retention-"));
		// A server of its own on the suite's engine, keeping RETENTION_CAP messages per room.
		server = await startServerForPool(engineUrl(), {
			pool,
			dataDir,
			env: { CHAT_ROOM_MAX_MESSAGES: String(RETENTION_CAP) },
		});
	}, 60_000);
	afterAll(async () => {
		await server?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	test("the flood evicts its own messages first: an earlier author keeps their newest cap/(authors) messages", async () => {
		const client = testClient({ poolName: pool });
		const key = [uniqueKey("room")];
		const roomFor = async (userId: string, name: string) =>
			client.chatRoom.getOrCreate(key, { params: { token: (await tokenFor(userId, name)).token } });
		const alice = await roomFor(`u_${uniqueKey("alice")}`, "alice");
		const mine: ChatMessage[] = [];
		for (let i = 1; i <= 8; i++) mine.push(await alice.postMessage(`alice ${i}`));

		// Three new identities post 10 each (within the per-user burst): 38 messages for a cap of 20.
		const flooders = 3;
		for (let f = 0; f < flooders; f++) {
			const flooder = await roomFor(`u_${uniqueKey("flood")}`, `flood${f}`);
			for (let i = 1; i <= 10; i++) await flooder.postMessage(`flood ${f}.${i}`);
		}

		const { messages } = await alice.history({ limit: 100 });
		expect(messages).toHaveLength(RETENTION_CAP);
		const kept = messages.filter((m) => m.userId === mine[0]?.userId);
		const share = Math.floor(RETENTION_CAP / (flooders + 1));
		// Alice keeps her newest `share` messages: the flood took only from whoever held the most.
		expect(kept).toEqual(mine.slice(-share));
		for (let f = 0; f < flooders; f++) {
			expect(messages.filter((m) => m.username === `flood${f}`).length).toBeLessThanOrEqual(share);
		}
		console.log(
			`chat retention: cap ${RETENTION_CAP}, ${flooders} new identities posted ${flooders * 10}, the earlier author kept ${kept.length} of ${mine.length} (newest-only retention: 0)`,
		);
	});
});
