// Who is signed in on this page, and the access token actors accept from it.
//
// `POST /api/auth/sign-in` sets an HttpOnly session cookie (this script never
// sees it) and returns a short-lived access token, which actors take as
// connection params `{ token }` (see docs/auth.md). The token is kept in
// memory only: a reload asks `POST /api/auth/token` for a new one with the
// cookie, so nothing readable by scripts outlives the page.
//
// Renewal: a new token is fetched `RENEW_BEFORE_EXPIRY_MS` before the current
// one expires, and within `TOKEN_REJECTED_RENEW_MS` when an actor answers
// `token_expired`. Actors check
// a token when a connection opens and keep that identity for as long as the
// socket stays open, refusing actions once its expiry has passed, so every
// new token is new connection params for `useActor`, which opens a new
// connection with it (see lib/actor.ts). A failed renewal (the app server is down) is retried
// with backoff until the token is gone; connections stay up meanwhile.

import { useSyncExternalStore } from "react";

export type Role = "user" | "operator";

export interface Session {
	userId: string;
	name: string;
	role: Role;
	/** The access token: connection params `{ token }`. */
	token: string;
	/** When `token` stops being accepted (epoch milliseconds, the server's clock). */
	expiresAt: number;
}

export type SessionState =
	| { status: "loading" }
	| { status: "signed-out"; error?: string }
	| { status: "signed-in"; session: Session };

/** Renew this long before the token expires, so no open connection ever holds an expired one. */
export const RENEW_BEFORE_EXPIRY_MS = 60_000;
/** A failed renewal is retried after this, doubling up to `RENEW_RETRY_MAX_MS`, with jitter. */
const RENEW_RETRY_MIN_MS = 1_000;
const RENEW_RETRY_MAX_MS = 30_000;
/** After an actor answered `token_expired`, renew within this (jittered: half of it to all of it). */
const TOKEN_REJECTED_RENEW_MS = 1_000;
/**
 * Set while this browser has a session cookie (which scripts cannot read), so
 * a first visit does not ask for a token it cannot get: the browser would log
 * that 401 as an error. Holds no secret.
 */
const SIGNED_IN_HINT_KEY = "actor-fleet:signed-in";
/** How long one call to the auth routes may take. */
const AUTH_REQUEST_TIMEOUT_MS = 10_000;

interface TokenResponse {
	userId: string;
	name: string;
	role: Role;
	token: string;
	expiresAt: number;
}

/**
 * The server refused: no valid session (401), a wrong operator token (403),
 * a bad name (400), or too many sign-ins from this address (429, whose
 * message says when to try again). Not worth retrying at once.
 */
export class SignInRefused extends Error {
	readonly status: number;
	constructor(status: number, message: string) {
		super(message);
		this.status = status;
	}
}

async function postAuth(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TokenResponse> {
	const res = await fetch(path, {
		method: "POST",
		credentials: "same-origin",
		headers: {
			accept: "application/json",
			...(body === undefined ? {} : { "content-type": "application/json" }),
			...headers,
		},
		...(body === undefined ? {} : { body: JSON.stringify(body) }),
		signal: AbortSignal.timeout(AUTH_REQUEST_TIMEOUT_MS),
	});
	const text = await res.text();
	let parsed: unknown = null;
	try {
		parsed = JSON.parse(text);
	} catch {
		// A proxy's HTML error page, or nothing: handled below.
	}
	if (res.status === 401 || res.status === 403 || res.status === 400 || res.status === 429) {
		const message = (parsed as { message?: string } | null)?.message ?? `the server answered ${res.status}`;
		throw new SignInRefused(res.status, message);
	}
	if (!res.ok || parsed === null || typeof (parsed as TokenResponse).token !== "string") {
		throw new Error(`${path} answered ${res.status}`);
	}
	return parsed as TokenResponse;
}

function jittered(ms: number): number {
	return ms / 2 + Math.random() * (ms / 2);
}

class SessionStore {
	#state: SessionState = { status: "loading" };
	#listeners = new Set<() => void>();
	#renewTimer: ReturnType<typeof setTimeout> | undefined;
	#renewing: Promise<Session> | undefined;
	#renewFailures = 0;
	/** The last token an actor answered `token_expired` to (see `tokenRejected`). */
	#rejectedToken: string | undefined;

	get state(): SessionState {
		return this.#state;
	}

	subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	#set(state: SessionState): void {
		this.#state = state;
		for (const listener of [...this.#listeners]) listener();
	}

	#accept(response: TokenResponse): Session {
		// Schedule on our clock: the server's `expiresAt` minus what is left now.
		const session: Session = { ...response };
		this.#renewFailures = 0;
		this.#set({ status: "signed-in", session });
		this.#scheduleRenewal(Math.max(0, session.expiresAt - Date.now() - RENEW_BEFORE_EXPIRY_MS));
		return session;
	}

	#scheduleRenewal(delayMs: number): void {
		clearTimeout(this.#renewTimer);
		this.#renewTimer = setTimeout(() => {
			this.renew().catch(() => {
				// Reported through the state (signed-out) or retried by `renew` itself.
			});
		}, delayMs);
	}

	/** On page load: a session cookie from an earlier visit signs this page in without a form. */
	async restore(): Promise<void> {
		if (localStorage.getItem(SIGNED_IN_HINT_KEY) === null) {
			this.#set({ status: "signed-out" });
			return;
		}
		try {
			this.#accept(await postAuth("/api/auth/token"));
		} catch (error) {
			this.#set({ status: "signed-out", ...(error instanceof SignInRefused ? {} : { error: describe(error) }) });
		}
	}

	/** The sign-in form. `operatorToken` (optional) asks for the operator role; it is sent once and not kept. */
	async signIn(name: string, operatorToken?: string): Promise<void> {
		const headers: Record<string, string> = operatorToken ? { authorization: `Bearer ${operatorToken}` } : {};
		this.#accept(await postAuth("/api/auth/sign-in", { name }, headers));
		localStorage.setItem(SIGNED_IN_HINT_KEY, "1");
	}

	async signOut(): Promise<void> {
		clearTimeout(this.#renewTimer);
		localStorage.removeItem(SIGNED_IN_HINT_KEY);
		await fetch("/api/auth/sign-out", { method: "POST", credentials: "same-origin" }).catch(() => {});
		this.#set({ status: "signed-out" });
	}

	/**
	 * A new access token from the session cookie (one request at a time).
	 * Network failures are retried with backoff in the background; a refused
	 * session signs the page out.
	 */
	renew(): Promise<Session> {
		this.#renewing ??= postAuth("/api/auth/token")
			.then((response) => this.#accept(response))
			.catch((error: unknown) => {
				if (error instanceof SignInRefused) {
					clearTimeout(this.#renewTimer);
					localStorage.removeItem(SIGNED_IN_HINT_KEY);
					this.#set({ status: "signed-out", error: "Your session has ended: sign in again." });
				} else {
					this.#renewFailures += 1;
					const backoff = Math.min(RENEW_RETRY_MAX_MS, RENEW_RETRY_MIN_MS * 2 ** (this.#renewFailures - 1));
					this.#scheduleRenewal(jittered(backoff));
				}
				throw error;
			})
			.finally(() => {
				this.#renewing = undefined;
			});
		return this.#renewing;
	}

	/**
	 * A token for a request made now: the current one while it has more than
	 * `RENEW_BEFORE_EXPIRY_MS` left, else a new one. For calls outside
	 * `useActor` (the Fleet panel's `GET /api/fleet`); panels' connections
	 * take the session's token as `params` (lib/actor.ts).
	 */
	async connParams(): Promise<{ token: string }> {
		const state = this.#state;
		if (state.status === "signed-in" && state.session.expiresAt - Date.now() > RENEW_BEFORE_EXPIRY_MS) {
			return { token: state.session.token };
		}
		if (state.status === "signed-out") throw new Error("not signed in");
		return { token: (await this.renew()).token };
	}

	/**
	 * An actor answered `token_expired` to `token` (e.g. the computer slept
	 * past the renewal): renew soon. Every panel of the page reports it, so
	 * only the first report of a token counts; a renewal already in flight, or
	 * one waiting out its backoff after a failure, is left to run; and the
	 * jittered wait spreads the pages whose tokens expired together.
	 */
	tokenRejected(token: string): void {
		const state = this.#state;
		if (state.status !== "signed-in" || state.session.token !== token || this.#rejectedToken === token) return;
		this.#rejectedToken = token;
		if (this.#renewing !== undefined || this.#renewFailures > 0) return;
		this.#scheduleRenewal(jittered(TOKEN_REJECTED_RENEW_MS));
	}
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export const session = new SessionStore();

export function useSession(): SessionState {
	return useSyncExternalStore(session.subscribe, () => session.state);
}
