// `npm run soak [-- --minutes N]`: long-lived client connections under
// restarts and token expiry. Not part of the test suite.
//
// It starts its own engine and app server (tools/local/stack.ts; every
// process is tracked, so Ctrl-C leaves nothing behind), with access tokens
// shortened to `SOAK_TOKEN_TTL_S` (the development-only
// `DEV_ACCESS_TOKEN_TTL_S`), so tokens expire several times per run. Two
// signed-in users hold rivetkit connections much as the web app does
// (web/src/lib/actor.ts): a fresh token on every connect (the web app's
// `@rivetkit/react` hook takes the current token as static params instead), a new connection
// when the token is renewed or when rivetkit gives up, and actions retried
// with the same `requestId` until they are answered. Every
// `MESSAGE_INTERVAL_MS` the writer posts a chat message and increments its
// counter; the reader follows the room. The app server is stopped and
// restarted a third of the way in, and killed with SIGKILL and restarted at
// two thirds.
//
// At the end it prints dropped connections, reconnects, lost and duplicated
// messages and increments, and the resident memory (VmRSS from /proc) of the
// engine and the app server at start and end.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type ActorConn, createClient, type ExtractActorsFromRegistry } from "rivetkit/client";
import type { ChatMessage } from "../src/actors/chat-room/contract.ts";
import type { Registry } from "../src/registry.ts";
import { exitOnSignals } from "./local/lifecycle.ts";
import { type Stack, startServerForPool, startStack } from "./local/stack.ts";

/** Access-token lifetime during the soak, in seconds: several expiries even in a 3-minute run. */
const SOAK_TOKEN_TTL_S = 60;
/** Renew a token this long before it expires (the web app renews a minute early; the soak's tokens are shorter). */
const RENEW_BEFORE_EXPIRY_MS = 20_000;
/** One chat message and one increment this often. */
const MESSAGE_INTERVAL_MS = 3_000;
/** An action without an answer after this is retried (same `requestId`) on a new connection. */
const ACTION_TIMEOUT_MS = 10_000;
/** A connection not live this long after it was opened is replaced. */
const CONNECT_TIMEOUT_MS = 15_000;
/** Backoff between new connections once rivetkit gave up: doubles from MIN to MAX, with jitter. */
const REOPEN_MIN_MS = 500;
const REOPEN_MAX_MS = 15_000;
/** How long the app server stays stopped in the graceful restart. */
const SERVER_OUTAGE_MS = 5_000;
/** Pause between two tries of an unanswered action. */
const RETRY_MS = 500;
/** How long a message or increment may keep retrying before it counts as lost. */
const ACTION_DEADLINE_MS = 120_000;
const HISTORY_PAGE = 100;

type Actors = ExtractActorsFromRegistry<Registry>;
type Name = "counter" | "chatRoom";

/**
 * dropped: live connections lost without the soak closing them; reconnects:
 * connections live again after a drop or a planned reopen.
 */
const stats = { dropped: 0, reconnects: 0, tokenRenewals: 0, reopenedForToken: 0, gaveUp: 0, refusals: 0 };

function log(line: string): void {
	console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

function rssMb(pid: number): string {
	try {
		const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
		return match?.[1] ? `${(Number(match[1]) / 1024).toFixed(0)} MB` : "?";
	} catch {
		return "gone";
	}
}

/** A signed-in user: the session cookie, and access tokens renewed from it. */
class User {
	#cookie = "";
	#token = "";
	#expiresAt = 0;
	#listeners = new Set<() => void>();
	#renewTimer: NodeJS.Timeout | undefined;
	userId = "";

	readonly name: string;
	readonly appUrl: () => string;

	constructor(name: string, appUrl: () => string) {
		this.name = name;
		this.appUrl = appUrl;
	}

	async signIn(): Promise<void> {
		const res = await fetch(`${this.appUrl()}/api/auth/sign-in`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ name: this.name }),
		});
		if (!res.ok) throw new Error(`sign-in answered ${res.status}`);
		this.#cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
		this.#accept((await res.json()) as { userId: string; token: string; expiresAt: number });
	}

	#accept(body: { userId: string; token: string; expiresAt: number }): void {
		this.userId = body.userId;
		this.#token = body.token;
		this.#expiresAt = body.expiresAt;
		clearTimeout(this.#renewTimer);
		this.#renewTimer = setTimeout(
			() => void this.renew(),
			Math.max(0, this.#expiresAt - Date.now() - RENEW_BEFORE_EXPIRY_MS),
		);
		for (const listener of this.#listeners) listener();
	}

	/** A new token from the cookie; retried while the app server is down. */
	async renew(): Promise<void> {
		for (let attempt = 0; ; attempt++) {
			try {
				const res = await fetch(`${this.appUrl()}/api/auth/token`, {
					method: "POST",
					headers: { cookie: this.#cookie },
					signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
				});
				if (!res.ok) throw new Error(`token answered ${res.status}`);
				stats.tokenRenewals += 1;
				this.#accept((await res.json()) as { userId: string; token: string; expiresAt: number });
				return;
			} catch {
				await sleep(Math.min(5_000, RETRY_MS * 2 ** attempt));
			}
		}
	}

	async params(): Promise<{ token: string }> {
		if (this.#expiresAt - Date.now() < RENEW_BEFORE_EXPIRY_MS / 2) await this.renew();
		return { token: this.#token };
	}

	onRenew(listener: () => void): void {
		this.#listeners.add(listener);
	}

	stop(): void {
		clearTimeout(this.#renewTimer);
	}
}

/** One actor connection kept open like the web app keeps it (see web/src/lib/actor.ts). */
class Link<N extends Name> {
	conn: ActorConn<Actors[N]> | null = null;
	live = false;
	#wasLive = false;
	#failures = 0;
	#stopped = false;
	#timer: NodeJS.Timeout | undefined;
	#onLive: Array<(conn: ActorConn<Actors[N]>) => void> = [];

	readonly client: ReturnType<typeof createClient<Registry>>;
	readonly name: N;
	readonly key: string;
	readonly user: User;
	readonly events: Record<string, (...args: never[]) => void>;

	constructor(
		client: ReturnType<typeof createClient<Registry>>,
		name: N,
		key: string,
		user: User,
		events: Record<string, (...args: never[]) => void> = {},
	) {
		this.client = client;
		this.name = name;
		this.key = key;
		this.user = user;
		this.events = events;
		// A renewed token: reopen, because the actor keeps the identity it verified at connect.
		user.onRenew(() => {
			if (this.conn) {
				stats.reopenedForToken += 1;
				this.reopen(0, true);
			}
		});
	}

	onLive(callback: (conn: ActorConn<Actors[N]>) => void): void {
		this.#onLive.push(callback);
	}

	open(): void {
		if (this.#stopped) return;
		const accessor = this.client[this.name] as unknown as {
			getOrCreate(key: string[], options: { getParams: () => Promise<{ token: string }> }): { connect(): unknown };
		};
		const conn = accessor.getOrCreate([this.key], { getParams: () => this.user.params() }).connect() as ActorConn<
			Actors[N]
		>;
		this.conn = conn;
		const source = conn as unknown as { on(event: string, cb: (...args: unknown[]) => void): void };
		for (const [event, handler] of Object.entries(this.events)) {
			source.on(event, handler as (...args: unknown[]) => void);
		}
		let live = false;
		let refused = false;
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => {
			if (this.conn === conn && !live && !refused) this.#giveUp();
		}, CONNECT_TIMEOUT_MS);
		conn.onStatusChange((status) => {
			// The soak's own `stop()` closes connections too: not a drop.
			if (this.conn !== conn || this.#stopped) return;
			if (status === "connected") {
				clearTimeout(this.#timer);
				if (this.#wasLive) stats.reconnects += 1;
				this.#wasLive = true;
				this.#failures = 0;
				live = true;
				this.live = true;
				for (const callback of this.#onLive) callback(conn);
			} else {
				if (live) stats.dropped += 1;
				live = false;
				this.live = false;
				if (status === "idle" && !refused) this.#giveUp();
			}
		});
		conn.onError((error) => {
			if (this.conn !== conn) return;
			const code = (error as { code?: string }).code;
			if ((error as { group?: string }).group !== "user") return;
			refused = true;
			stats.refusals += 1;
			log(`${this.name} refused the connection: ${code}`);
			if (code === "token_expired") void this.user.renew();
			else this.reopen(REOPEN_MAX_MS);
		});
	}

	#giveUp(): void {
		stats.gaveUp += 1;
		this.#failures += 1;
		const base = Math.min(REOPEN_MAX_MS, REOPEN_MIN_MS * 2 ** (this.#failures - 1));
		this.reopen(base / 2 + Math.random() * (base / 2));
	}

	/** Replaces the connection after `delayMs`; `planned` (a renewed token) is not counted as dropped. */
	reopen(delayMs: number, planned = false): void {
		const old = this.conn;
		this.conn = null;
		if (this.live && !planned) stats.dropped += 1;
		this.live = false;
		if (old) void old.dispose().catch(() => {});
		clearTimeout(this.#timer);
		if (!this.#stopped) this.#timer = setTimeout(() => this.open(), delayMs);
	}

	/** Calls `action` on a live connection until it answers; a user error is final. */
	async call<T>(action: (conn: ActorConn<Actors[N]>) => Promise<T>): Promise<T> {
		const deadline = Date.now() + ACTION_DEADLINE_MS;
		for (;;) {
			const conn = this.conn;
			if (conn && this.live) {
				let timer: NodeJS.Timeout | undefined;
				try {
					return await Promise.race([
						action(conn),
						new Promise<never>((_, reject) => {
							timer = setTimeout(() => reject(new Error("timeout")), ACTION_TIMEOUT_MS);
						}),
					]);
				} catch (error) {
					const code = (error as { code?: string }).code;
					if ((error as { group?: string }).group === "user" && code !== "token_expired") throw error;
					if (code === "token_expired") await this.user.renew();
					else if ((error as Error).message === "timeout" && this.conn === conn) this.reopen(0);
				} finally {
					clearTimeout(timer);
				}
			}
			if (Date.now() > deadline) throw new Error(`${this.name}: no answer within ${ACTION_DEADLINE_MS} ms`);
			await sleep(RETRY_MS);
		}
	}

	async stop(): Promise<void> {
		this.#stopped = true;
		clearTimeout(this.#timer);
		await this.conn?.dispose().catch(() => {});
	}
}

async function main(): Promise<void> {
	exitOnSignals();
	const { values } = parseArgs({ options: { minutes: { type: "string", default: "15" } } });
	const minutes = Number(values.minutes);
	if (!Number.isFinite(minutes) || minutes <= 0) throw new Error("--minutes takes a positive number");
	const durationMs = minutes * 60_000;
	const pool = `soak-${randomUUID().slice(0, 8)}`;
	const serverEnv = { DEV_ACCESS_TOKEN_TTL_S: String(SOAK_TOKEN_TTL_S) };
	log(`soak: ${minutes} min, a message and an increment every ${MESSAGE_INTERVAL_MS / 1_000} s`);
	const stack: Stack = await startStack({ pool, serverEnv });
	const serverPort = Number(new URL(stack.server.url).port);
	const restartServer = () =>
		startServerForPool(stack.engine.url, {
			pool,
			dataDir: stack.dataDir,
			port: serverPort,
			configure: false,
			env: serverEnv,
		});
	const memory = { engineStart: rssMb(stack.engine.pid), serverStart: rssMb(stack.server.pid) };
	log(`engine ${stack.engine.url} (pid ${stack.engine.pid}), server ${stack.server.url} (pid ${stack.server.pid})`);

	const client = createClient<Registry>({ endpoint: stack.engine.url, poolName: pool });
	const writer = new User("soak-writer", () => stack.server.url);
	const reader = new User("soak-reader", () => stack.server.url);
	await Promise.all([writer.signIn(), reader.signIn()]);
	const room = `soak-room-${randomUUID().slice(0, 8)}`;

	// The reader's view of the room, kept like the Chat panel keeps it: by id,
	// from history on every (re)connect plus `message` events.
	const seen = new Map<number, ChatMessage>();
	const readerChat = new Link(client, "chatRoom", room, reader, {
		message: (m: ChatMessage) => seen.set(m.id, m),
	});
	readerChat.onLive((conn) => {
		conn.history({ limit: HISTORY_PAGE }).then(
			(page) => {
				for (const m of page.messages) seen.set(m.id, m);
			},
			() => {},
		);
	});
	const writerChat = new Link(client, "chatRoom", room, writer);
	const counter = new Link(client, "counter", writer.userId, writer);
	for (const link of [readerChat, writerChat, counter]) link.open();

	const posted: string[] = [];
	let incrementsAnswered = 0;
	let incrementsSent = 0;
	const failures: string[] = [];
	const start = Date.now();
	const faults = [
		{
			at: durationMs / 3,
			name: "app server stopped and restarted",
			run: async () => {
				await stack.server.stop();
				await sleep(SERVER_OUTAGE_MS);
				stack.server = await restartServer();
			},
		},
		{
			at: (2 * durationMs) / 3,
			name: "app server killed (SIGKILL) and restarted",
			run: async () => {
				await stack.server.kill();
				stack.server = await restartServer();
			},
		},
	];
	const inFlight: Promise<void>[] = [];
	let sequence = 0;
	while (Date.now() - start < durationMs) {
		const fault = faults[0];
		if (fault && Date.now() - start >= fault.at) {
			faults.shift();
			log(`fault: ${fault.name}`);
			inFlight.push(fault.run().then(() => log(`restored: ${fault.name}`)));
		}
		sequence += 1;
		const text = `soak ${sequence}`;
		const chatRequestId = randomUUID();
		const counterRequestId = randomUUID();
		posted.push(text);
		incrementsSent += 1;
		inFlight.push(
			writerChat
				.call((conn) => conn.postMessage(text, { requestId: chatRequestId }))
				.then(
					() => {},
					(e: unknown) => void failures.push(`post ${text}: ${String(e)}`),
				),
			counter
				.call((conn) => conn.increment(1, { requestId: counterRequestId }))
				.then(
					() => {
						incrementsAnswered += 1;
					},
					(e: unknown) => void failures.push(`increment ${sequence}: ${String(e)}`),
				),
		);
		if (sequence % 20 === 0) {
			log(
				`${sequence} sent; live: chat ${writerChat.live}/${readerChat.live}, counter ${counter.live}; ${JSON.stringify(stats)}`,
			);
		}
		await sleep(MESSAGE_INTERVAL_MS);
	}
	await Promise.all(inFlight);

	// The truth, read back from the actors.
	const stored: ChatMessage[] = [];
	let before: number | undefined;
	for (;;) {
		const page = await writerChat.call((conn) =>
			conn.history({ limit: HISTORY_PAGE, ...(before === undefined ? {} : { before }) }),
		);
		stored.unshift(...page.messages);
		const first = page.messages[0];
		if (!page.hasMore || !first) break;
		before = first.id;
	}
	const count = await counter.call((conn) => conn.getCount());
	// The reader's view catches up on its next (re)connect; give it one history read now.
	const latest = await readerChat.call((conn) => conn.history({ limit: HISTORY_PAGE }));
	for (const m of latest.messages) seen.set(m.id, m);

	const storedTexts = stored.map((m) => m.text);
	const lostMessages = posted.filter((t) => !storedTexts.includes(t)).length;
	const duplicatedMessages = storedTexts.length - new Set(storedTexts).size;
	const missingFromReader = stored.filter((m) => !seen.has(m.id)).length;
	const memoryEnd = { engine: rssMb(stack.engine.pid), server: rssMb(stack.server.pid) };

	await Promise.all([readerChat.stop(), writerChat.stop(), counter.stop()]);
	writer.stop();
	reader.stop();
	await client.dispose();
	await stack.stop();

	const date = new Date().toISOString().slice(0, 10);
	console.log(`
soak ${date}, ${minutes} min, ${SOAK_TOKEN_TTL_S} s access tokens, 2 app server restarts (one graceful, one SIGKILL)
  connections: 3 held; ${stats.dropped} dropped (not by the soak), ${stats.reconnects} live again (${stats.reopenedForToken} reopened on purpose with a renewed token), ${stats.gaveUp} recreated after rivetkit gave up or a connect timed out, ${stats.refusals} refused on connect
  tokens: ${stats.tokenRenewals} renewals
  chat: ${posted.length} posted, ${stored.length} stored, ${lostMessages} lost, ${duplicatedMessages} duplicated; the reader missed ${missingFromReader}
  counter: ${incrementsSent} increments, ${incrementsAnswered} answered, count ${count}, ${Math.max(0, incrementsSent - count)} lost, ${Math.max(0, count - incrementsSent)} duplicated
  memory (VmRSS): engine ${memory.engineStart} -> ${memoryEnd.engine}, app server ${memory.serverStart} -> ${memoryEnd.server} (the server at the end is the restarted process)
  failures: ${failures.length === 0 ? "none" : failures.join("; ")}`);
	const clean = lostMessages === 0 && duplicatedMessages === 0 && count === incrementsSent && failures.length === 0;
	process.exitCode = clean ? 0 : 1;
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
