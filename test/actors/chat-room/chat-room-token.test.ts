// With CHAT_TOKEN set, chat connections and calls need the token. This runs
// its own app server (own pool) on the shared test engine, configured with a
// token, so the rest of the suite keeps its token-free server.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import type { RunningAppServer } from "../../../tools/local/app-server.ts";
import { startServerForPool } from "../../../tools/local/stack.ts";
import { engineUrl, testClient, uniqueKey } from "../../support.ts";

const TOKEN = `chat-${randomUUID()}`;
const pool = uniqueKey("chat-token");
let server: RunningAppServer | undefined;

beforeAll(async () => {
	server = await startServerForPool(engineUrl(), { pool, dataDir: inject("dataDir"), env: { CHAT_TOKEN: TOKEN } });
});

afterAll(async () => {
	await server?.stop();
});

describe("chatRoom with CHAT_TOKEN set", () => {
	test("a missing or wrong token is forbidden over HTTP and WebSocket; the right one is admitted", async () => {
		const client = testClient({ poolName: pool });
		const key = [uniqueKey("room")];
		const as = (params: { username: string; token?: string }) => client.chatRoom.getOrCreate(key, { params });

		await expect(as({ username: "alice" }).info()).rejects.toMatchObject({ group: "user", code: "forbidden" });
		await expect(as({ username: "alice", token: "guess" }).postMessage("hi")).rejects.toMatchObject({
			code: "forbidden",
		});
		const conn = as({ username: "alice", token: `${TOKEN}x` }).connect();
		await expect(conn.info()).rejects.toMatchObject({ code: "forbidden" });
		await conn.dispose();

		const admitted = as({ username: "alice", token: TOKEN });
		const message = await admitted.postMessage("with the token");
		const live = as({ username: "bob", token: TOKEN }).connect();
		expect(await live.history({ limit: 10 })).toEqual({ messages: [message], hasMore: false });
		expect((await live.info()).online).toEqual(["bob"]);
		await live.dispose();
	});
});
