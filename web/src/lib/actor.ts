// `useActor`: one live connection to one actor, kept open through faults.
//
// Built on the rivetkit client (lib/rivet.ts) instead of `@rivetkit/react`'s
// hook, because the app has to decide what happens after a failure, and
// `@rivetkit/react` 2.3.11 decides for it: it takes static `params` only (no
// `getParams`, so no fresh token per connection), and it recreates every
// connection that went idle at once, in a loop without backoff. What this
// hook does instead (docs/web.md has the reasons and the upstream reports):
//
// - Tokens: every connect and reconnect asks `session.connParams()` for the
//   token (rivetkit's `getParams`), so a reconnect after a long outage does
//   not present an expired token. A renewed token (session `generation`)
//   reopens the connection, because the actor keeps the identity it verified
//   when the socket opened and refuses actions once that token has expired.
// - Gave up: rivetkit 2.3.19 stops reconnecting after one failed handshake
//   that carries no reason (a refused TCP connection, an HTTP 503 from the
//   gateway: rivet-dev/actors#5699) and goes `idle`. Then this hook opens a
//   new connection after `REOPEN_MIN_MS`, doubling up to `REOPEN_MAX_MS`,
//   with jitter, so a thousand tabs do not come back in the same millisecond.
// - Refused: an actor's `UserError` on connect is a reason. `token_expired`
//   renews the token and reconnects; any other code (`forbidden`,
//   `unauthenticated`, `rate_limited`, ...) stops, and the panel says why.
// - Silent death: the path check in lib/liveness.ts marks connections down
//   while the engine cannot be reached and reopens them when it can again
//   (rivet-dev/actors#3040: a client that shows "connected" while dead), and
//   `guard()` gives every action `ACTION_TIMEOUT_MS`, after which the
//   connection is reopened.

import { useCallback, useEffect, useRef, useState } from "react";
import type { ActorConn, ExtractActorsFromRegistry } from "rivetkit/client";
import type { Registry } from "../../../src/registry.ts";
import { isUserError } from "./errors.ts";
import { enginePath } from "./liveness.ts";
import { client } from "./rivet.ts";
import { session } from "./session.ts";

type Actors = ExtractActorsFromRegistry<Registry>;
export type ActorName = keyof Actors & string;

/** What a panel shows: its connection as a person would describe it. */
export type LinkStatus = "idle" | "connecting" | "live" | "down" | "refused";

/** First wait before opening a new connection once rivetkit gave up; doubles per failure. */
export const REOPEN_MIN_MS = 500;
/** Longest wait between two new connections. */
export const REOPEN_MAX_MS = 15_000;
/**
 * A connection not live this long after it was opened is replaced (with the
 * backoff above). rivetkit has no timeout of its own here: a handshake into a
 * stalled path, or a request on a pooled socket that died, waits forever.
 * Generous, because an actor's first start on a busy server takes seconds.
 */
export const CONNECT_TIMEOUT_MS = 15_000;
/** An action without an answer after this is treated as a dead connection. */
export const ACTION_TIMEOUT_MS = 10_000;

/** An action that got no answer in time; its outcome is unknown (retry it with the same `requestId`). */
export class ActionTimeout extends Error {
	constructor() {
		super(`no answer within ${ACTION_TIMEOUT_MS / 1_000} s; reconnecting`);
		this.name = "ActionTimeout";
	}
}

interface EventSource {
	on(eventName: string, callback: (...args: unknown[]) => void): () => void;
}

export interface LiveActor<N extends ActorName> {
	/** The connection while it is live, else `null`: calls are made only on a live connection. */
	connection: ActorConn<Actors[N]> | null;
	status: LinkStatus;
	/** Why the actor refused this page (a `UserError`), when `status` is "refused". */
	refusal: unknown;
	/** Wraps an action call with `ACTION_TIMEOUT_MS`; a timeout reopens the connection. */
	guard<T>(call: Promise<T>): Promise<T>;
	/** Follows an event of this actor on every connection it gets. */
	onEvent(eventName: string, handler: (...args: never[]) => void): void;
}

function jittered(ms: number): number {
	return ms / 2 + Math.random() * (ms / 2);
}

/** One actor's connections over time: opens, watches and replaces them. */
class Link<N extends ActorName> {
	#conn: ActorConn<Actors[N]> | null = null;
	#stopped = false;
	#failures = 0;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#connectTimer: ReturnType<typeof setTimeout> | undefined;
	#unsubscribe: Array<() => void> = [];
	#wasLive = false;
	/** The session token generation the open connection was made with. */
	#generation = 0;

	readonly name: N;
	readonly key: string[];
	/** Event names to follow; each is subscribed on every new connection before it opens. */
	readonly events: ReadonlySet<string>;
	readonly dispatch: (eventName: string, args: unknown[]) => void;
	readonly onChange: (conn: ActorConn<Actors[N]> | null, status: LinkStatus, refusal: unknown) => void;

	constructor(options: {
		name: N;
		key: string[];
		events: ReadonlySet<string>;
		dispatch: (eventName: string, args: unknown[]) => void;
		onChange: (conn: ActorConn<Actors[N]> | null, status: LinkStatus, refusal: unknown) => void;
	}) {
		this.name = options.name;
		this.key = options.key;
		this.events = options.events;
		this.dispatch = options.dispatch;
		this.onChange = options.onChange;
	}

	start(): void {
		this.#unsubscribe.push(
			enginePath.watch((state) => {
				if (state === "down") this.#report(null, "down");
				else this.reopen(0);
			}),
			session.subscribe(() => {
				const state = session.state;
				// A new token: connections made with the previous one move to it.
				if (state.status === "signed-in" && state.session.generation !== this.#generation && this.#conn) {
					this.reopen(0);
				}
			}),
		);
		this.#open();
	}

	stop(): void {
		this.#stopped = true;
		clearTimeout(this.#timer);
		clearTimeout(this.#connectTimer);
		for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
		this.#drop();
	}

	/** Replaces the connection after `delayMs` (0: at once). */
	reopen(delayMs: number): void {
		if (this.#stopped) return;
		this.#drop();
		this.#report(null, this.#wasLive ? "down" : "connecting");
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => this.#open(), delayMs);
	}

	#drop(): void {
		const conn = this.#conn;
		this.#conn = null;
		// Not awaited: on a stalled socket the closing handshake never completes.
		if (conn) void conn.dispose().catch(() => {});
	}

	#report(conn: ActorConn<Actors[N]> | null, status: LinkStatus, refusal: unknown = null): void {
		if (!this.#stopped) this.onChange(conn, status, refusal);
	}

	#open(): void {
		if (this.#stopped) return;
		const state = session.state;
		this.#generation = state.status === "signed-in" ? state.session.generation : 0;
		const accessor = client[this.name];
		const conn = accessor
			.getOrCreate(this.key, {
				getParams: () => session.connParams(),
			})
			.connect() as unknown as ActorConn<Actors[N]>;
		this.#conn = conn;
		// Subscribed before the socket opens, so rivetkit sends the subscriptions
		// ahead of any action: nothing changes unseen between a panel's first
		// read and its first event.
		for (const eventName of this.events) {
			(conn as unknown as EventSource).on(eventName, (...args: unknown[]) => this.dispatch(eventName, args));
		}
		let refused = false;
		let live = false;
		this.#report(null, this.#wasLive ? "down" : "connecting");
		clearTimeout(this.#connectTimer);
		this.#connectTimer = setTimeout(() => {
			if (this.#conn !== conn || live || refused) return;
			this.#failures += 1;
			this.reopen(this.#backoff());
		}, CONNECT_TIMEOUT_MS);
		conn.onStatusChange((status) => {
			if (this.#conn !== conn) return;
			live = status === "connected";
			if (status === "connected") {
				clearTimeout(this.#connectTimer);
				this.#failures = 0;
				this.#wasLive = true;
				this.#report(conn, enginePath.state === "down" ? "down" : "live");
			} else if (status === "idle") {
				if (refused) return;
				// rivetkit gave up without a reason: a new connection, after backoff.
				this.#failures += 1;
				this.reopen(this.#backoff());
			} else {
				// "disconnected" / "connecting": rivetkit is retrying by itself.
				this.#report(null, this.#wasLive ? "down" : "connecting");
			}
		});
		conn.onError((error) => {
			if (this.#conn !== conn || !isUserError(error)) return;
			refused = true;
			if ((error as { code?: string }).code === "token_expired") {
				// Renewing bumps the session generation, which reopens this link.
				session.tokenRejected();
				this.reopen(REOPEN_MIN_MS);
				return;
			}
			this.#drop();
			this.#report(null, "refused", error);
		});
	}

	#backoff(): number {
		return jittered(Math.min(REOPEN_MAX_MS, REOPEN_MIN_MS * 2 ** (this.#failures - 1)));
	}

	guard<T>(call: Promise<T>): Promise<T> {
		const conn = this.#conn;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				if (this.#conn === conn) this.reopen(0);
				reject(new ActionTimeout());
			}, ACTION_TIMEOUT_MS);
		});
		return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
	}
}

export function useActor<N extends ActorName>(options: { name: N; key: string[]; enabled?: boolean }): LiveActor<N> {
	const { name, enabled = true } = options;
	const keyJson = JSON.stringify(options.key);
	const [view, setView] = useState<{ conn: ActorConn<Actors[N]> | null; status: LinkStatus; refusal: unknown }>({
		conn: null,
		status: enabled ? "connecting" : "idle",
		refusal: null,
	});
	const linkRef = useRef<Link<N> | null>(null);
	// Event names are collected while rendering (`onEvent` below), before the
	// effect that opens the first connection runs.
	const events = useRef(new Set<string>()).current;
	const handlers = useRef(new Map<string, (...args: never[]) => void>()).current;

	useEffect(() => {
		if (!enabled) {
			setView({ conn: null, status: "idle", refusal: null });
			return;
		}
		const link = new Link<N>({
			name,
			key: JSON.parse(keyJson) as string[],
			events,
			dispatch: (eventName, args) => (handlers.get(eventName) as ((...a: unknown[]) => void) | undefined)?.(...args),
			onChange: (conn, status, refusal) => setView({ conn, status, refusal }),
		});
		linkRef.current = link;
		link.start();
		return () => {
			link.stop();
			if (linkRef.current === link) linkRef.current = null;
		};
	}, [name, keyJson, enabled, events, handlers]);

	const guard = useCallback(<T>(call: Promise<T>): Promise<T> => {
		const link = linkRef.current;
		return link ? link.guard(call) : call;
	}, []);

	// Not a hook (its order does not matter), called while rendering: it
	// records the latest handler; the link subscribes the name on each connection.
	const onEvent = (eventName: string, handler: (...args: never[]) => void): void => {
		events.add(eventName);
		handlers.set(eventName, handler);
	};

	return { connection: view.conn, status: view.status, refusal: view.refusal, guard, onEvent };
}
