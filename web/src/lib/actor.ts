// Keeping a panel's actor connection live through faults, around
// `@rivetkit/react`'s `useActor` (bound to the app's client in lib/rivet.ts).
// Every panel connects the same way:
//
//   const policy = useConnectionPolicy();
//   const counter = useActor({ name: "counter", key: [name], params: policy.params, enabled: policy.enabled });
//   const { connection, status, refusal, guard } = useLiveConnection(policy, counter);
//   counter.useEvent("newCount", (value) => setCount(value));
//
// The official hook opens, names and closes the connection. The policy owns
// the two inputs that decide whether and as whom it connects:
//
// - `params` is `{ token }`, the signed-in user's current access token. An
//   actor verifies it once, when the socket opens, and keeps that identity
//   while the socket lives (it refuses actions once the token has expired).
//   The hook names a connection by its params, so a renewed token is a new
//   connection, which is what the actor needs anyway.
// - `enabled` goes off while the policy waits before a new connection, and
//   for good after a refusal. Toggling it off and on is how the policy
//   reopens a connection:
//   - rivetkit gave up (rivet-dev/actors#5699: one failed handshake without a
//     reason ends its retries): a new connection after `REOPEN_MIN_MS`,
//     doubling up to `REOPEN_MAX_MS`, with jitter, so a thousand tabs do not
//     come back in the same millisecond;
//   - a connection not live `CONNECT_TIMEOUT_MS` after it was opened, or
//     after rivetkit began reconnecting it;
//   - the path check (lib/liveness.ts) passes again after it failed
//     (rivet-dev/actors#3040: a client that shows "connected" while dead);
//   - an action got no answer in `ACTION_TIMEOUT_MS` (`guard`).
// - A refusal (a `UserError` on connect) is a reason: `token_expired` asks
//   the session for a new token and keeps `enabled` off until `params.token`
//   differs from the rejected one (the renewal's own backoff decides when, so
//   a failing renewal costs no handshakes); any other code (`forbidden`,
//   `unauthenticated`, `rate_limited`, ...) stops, and the panel says why.
//
// The hook alone cannot see a give-up or a refusal; the few lines that watch
// the connection for them are lib/rivetkit-react-workaround.ts.

import { useEffect, useState, useSyncExternalStore } from "react";
import type { ActorConnStatus } from "rivetkit/client";
import { enginePath } from "./liveness.ts";
import { type WatchableConnection, watchConnectionOutcome } from "./rivetkit-react-workaround.ts";
import { session, useSession } from "./session.ts";

/** What a panel shows: its connection as a person would describe it. */
export type LinkStatus = "idle" | "connecting" | "live" | "down" | "refused";

/** First wait before opening a new connection once rivetkit gave up; doubles per failure. */
export const REOPEN_MIN_MS = 500;
/** Longest wait between two new connections. */
export const REOPEN_MAX_MS = 15_000;
/**
 * A connection not live this long after it was opened, or after rivetkit
 * began reconnecting it following a loss, is replaced (with the backoff above). rivetkit has no timeout of its own here: a handshake into a
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

function jittered(ms: number): number {
	return ms / 2 + Math.random() * (ms / 2);
}

/** What the policy has decided, as React renders it. Replaced (never mutated) on every change. */
interface PolicyState {
	/** `enabled` is off until the wait before the next connection is over. */
	waiting: boolean;
	/** That wait, and a number that changes with every reopen (a reopen while waiting starts the wait again). */
	waitMs: number;
	reopens: number;
	/** The actor's refusal: `enabled` stays off until the panel opens another actor. */
	refusal: unknown;
	/** A token an actor answered `token_expired` to: `enabled` stays off while it is still the session's token. */
	rejectedToken: string | null;
	/** The path check failed and has not passed since. */
	pathDown: boolean;
	/** A connection of this panel has been live: a later loss shows as "down", not "connecting". */
	wasLive: boolean;
}

/** One panel's connection policy over time. Plain TypeScript; the hooks below render it. */
class Link {
	#state: PolicyState = {
		waiting: false,
		waitMs: 0,
		reopens: 0,
		refusal: null,
		rejectedToken: null,
		pathDown: false,
		wasLive: false,
	};
	#listeners = new Set<() => void>();
	#failures = 0;
	/** The connection being followed (the hook's current one). */
	#conn: WatchableConnection | null = null;
	/** The token `#conn` was opened with. */
	#connToken = "";
	/**
	 * The `enabled` the hook was last given. Written during render (see
	 * `useConnectionPolicy`): the hook acts on a new value in a microtask
	 * queued by that same render, so by the time the connection it closes
	 * reports `idle`, this already says why.
	 */
	enabled = false;

	get state(): PolicyState {
		return this.#state;
	}

	subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	#set(change: Partial<PolicyState>): void {
		this.#state = { ...this.#state, ...change };
		for (const listener of [...this.#listeners]) listener();
	}

	/** Another actor (or the panel turned the connection off and on): start from scratch. */
	reset(): void {
		this.#failures = 0;
		this.#set({ waiting: false, refusal: null, wasLive: false });
	}

	/** Turns `enabled` off for `delayMs`, which closes the hook's connection and then opens a new one. */
	reopen(delayMs: number): void {
		if (this.#state.refusal !== null) return;
		this.#conn = null;
		this.#set({ waiting: true, waitMs: delayMs, reopens: this.#state.reopens + 1 });
	}

	/** The wait of reopen number `reopens` is over. */
	endWait(reopens: number): void {
		if (this.#state.reopens === reopens) this.#set({ waiting: false });
	}

	#reopenAfterFailure(): void {
		this.#failures += 1;
		this.reopen(jittered(Math.min(REOPEN_MAX_MS, REOPEN_MIN_MS * 2 ** (this.#failures - 1))));
	}

	/**
	 * An actor answered `token_expired` to `token`. Presenting it again gets
	 * the same answer, so `enabled` stays off until the session holds another
	 * token (new params, so a new connection); the session renews on its own
	 * schedule and backoff.
	 */
	tokenExpired(token: string): void {
		if (this.#state.rejectedToken === token) return;
		this.#conn = null;
		this.#set({ rejectedToken: token });
		session.tokenRejected(token);
	}

	/** Follows the hook's current connection, opened with `token`, until it is replaced; returns the function that stops. */
	follow(conn: WatchableConnection, token: string, hookError: unknown): () => void {
		this.#conn = conn;
		this.#connToken = token;
		// Armed whenever the connection is not live: when it opens, and again
		// each time rivetkit reconnects it after a loss, since a reconnect
		// into a stalled path waits forever just like a first handshake.
		let connectTimer: ReturnType<typeof setTimeout> | undefined;
		const armConnectTimer = () => {
			if (connectTimer !== undefined) return;
			connectTimer = setTimeout(() => {
				connectTimer = undefined;
				if (this.#conn === conn && this.enabled) this.#reopenAfterFailure();
			}, CONNECT_TIMEOUT_MS);
		};
		const disarmConnectTimer = () => {
			clearTimeout(connectTimer);
			connectTimer = undefined;
		};
		armConnectTimer();
		const stopReconnects = conn.onStatusChange((status) => {
			if (status === "connecting" || status === "disconnected") armConnectTimer();
		});
		const stop = watchConnectionOutcome(
			conn,
			{
				live: () => {
					disarmConnectTimer();
					this.#failures = 0;
					if (!this.#state.wasLive) this.#set({ wasLive: true });
				},
				gaveUp: () => {
					// An `idle` the policy or the page caused (`enabled` off: a
					// wait, a sign-out, a panel closed) is not a failure.
					if (this.#conn === conn && this.enabled && !this.#state.waiting) this.#reopenAfterFailure();
				},
				refused: (error) => {
					if (this.#conn !== conn) return;
					if (error.code === "token_expired") {
						this.tokenExpired(token);
						return;
					}
					this.#conn = null;
					this.#set({ refusal: error });
				},
			},
			hookError,
		);
		return () => {
			disarmConnectTimer();
			stopReconnects();
			stop();
			if (this.#conn === conn) this.#conn = null;
		};
	}

	/** Follows the path check while the panel wants a connection. */
	watchPath(): () => void {
		return enginePath.watch((state) => {
			if (state === "down") this.#set({ pathDown: true });
			else {
				this.#set({ pathDown: false });
				this.reopen(0);
			}
		});
	}

	/** An action on the followed connection was refused with `token_expired`: as on connect. */
	actionTokenExpired = (): void => {
		if (this.#conn !== null) this.tokenExpired(this.#connToken);
	};

	/** Wraps an action call with `ACTION_TIMEOUT_MS`; a timeout reopens the connection. */
	guard = <T>(call: Promise<T>): Promise<T> => {
		const conn = this.#conn;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				if (conn !== null && this.#conn === conn) this.reopen(0);
				reject(new ActionTimeout());
			}, ACTION_TIMEOUT_MS);
		});
		return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
	};
}

export interface ConnectionPolicy {
	/** For `useActor`: the current access token, verified by the actor on connect. */
	params: { token: string };
	/** For `useActor`: whether a connection should be open right now. */
	enabled: boolean;
	/** Whether the panel wants a connection at all (its own `enabled` and a signed-in session). */
	wanted: boolean;
	link: Link;
	state: PolicyState;
}

/**
 * The `params` and `enabled` to give `useActor`. `enabled: false` here means
 * the panel does not want a connection (e.g. worker rows for non-operators).
 */
export function useConnectionPolicy(options: { enabled?: boolean } = {}): ConnectionPolicy {
	const [link] = useState(() => new Link());
	const state = useSyncExternalStore(link.subscribe, () => link.state);
	const auth = useSession();
	const wanted = (options.enabled ?? true) && auth.status === "signed-in";
	const token = auth.status === "signed-in" ? auth.session.token : "";

	// The wait before the next connection. This effect runs after React
	// committed `enabled: false`, so the hook has closed the old connection
	// before the wait can end.
	useEffect(() => {
		if (!state.waiting) return;
		const timer = setTimeout(() => link.endWait(state.reopens), state.waitMs);
		return () => clearTimeout(timer);
	}, [link, state.waiting, state.waitMs, state.reopens]);

	useEffect(() => (wanted ? link.watchPath() : undefined), [link, wanted]);

	const enabled = wanted && !state.waiting && state.refusal === null && token !== state.rejectedToken;
	// Not in an effect: the hook closes a connection in a microtask this
	// render queues, which can run before any effect (see `Link.enabled`).
	link.enabled = enabled;
	return {
		params: { token },
		enabled,
		wanted,
		link,
		state,
	};
}

/** The part of `useActor`'s result this file reads. */
interface ActorView<C extends WatchableConnection> {
	connection: C | null;
	connStatus: ActorConnStatus;
	/** The hook's last error of this connection (a refusal that came before `follow` listened). */
	error: Error | null;
	opts: { name: string; key: string | string[] };
}

export interface LiveConnection<C> {
	/** The connection while it is live, else `null`: calls are made only on a live connection. */
	connection: C | null;
	status: LinkStatus;
	/** Why the actor refused this page (a `UserError`), when `status` is "refused". */
	refusal: unknown;
	/** Wraps an action call with `ACTION_TIMEOUT_MS`; a timeout reopens the connection. */
	guard<T>(call: Promise<T>): Promise<T>;
	/**
	 * An action was refused with `token_expired` (the token ran out under an
	 * open connection): the connection closes and reopens with the next token.
	 */
	tokenExpired(): void;
}

/** What `useActor`'s connection means for the panel, under the policy that drives it. */
export function useLiveConnection<C extends WatchableConnection>(
	policy: ConnectionPolicy,
	actor: ActorView<C>,
): LiveConnection<C> {
	const { link, state, wanted } = policy;
	const identity = JSON.stringify([actor.opts.name, actor.opts.key, wanted]);

	// A different actor starts with no failures and no refusal.
	// biome-ignore lint/correctness/useExhaustiveDependencies: `identity` is the trigger, not an input.
	useEffect(() => link.reset(), [link, identity]);

	const conn = actor.connection;
	const token = policy.params.token;
	// The token of the render in which `conn` first appears is the one it was
	// opened with: the hook opens a new connection for every new token. Its
	// `error` then is this connection's (the hook clears it for each new one).
	// biome-ignore lint/correctness/useExhaustiveDependencies: a new token arrives with a new `conn`; following the old one with it would misname the token it was refused.
	useEffect(() => (conn ? link.follow(conn, token, actor.error) : undefined), [link, conn]);

	const live = policy.enabled && !state.pathDown && actor.connStatus === "connected";
	const status: LinkStatus = !wanted
		? "idle"
		: state.refusal !== null
			? "refused"
			: live
				? "live"
				: state.wasLive
					? "down"
					: "connecting";
	return {
		connection: live ? conn : null,
		status,
		refusal: state.refusal,
		guard: link.guard,
		tokenExpired: link.actionTokenExpired,
	};
}
