// Helpers for the actor tests: signing in, putting an actor to sleep through
// the engine, and disposing connections with a time limit.
// example-actors:start (the README's removal block deletes these lines)
// The examples' tests also use server tokens, raw gateway calls with headers,
// and raw WebSockets with an Origin.
import { DEV_AUTH_SECRET, DEV_OPERATOR_TOKEN } from "../../src/auth/settings.ts";
import { signServerToken } from "../../src/auth/tokens.ts";
import { type SignedIn, signIn } from "../../tools/client/auth.ts";
// example-actors:end

import { expect } from "vitest";
import { appUrl, engineUrl, postSignIn } from "../support.ts";

/** Signs in on the test app server as a new user (a fresh user id every time); `params` connect to any actor. */
export async function signInAs(name = "tester") {
	const { res, body } = await postSignIn(appUrl(), { name });
	expect(res.status).toBe(200);
	return { ...body, role: "user" as const, params: { token: body.token } };
}

/** How long an actor gets to stop once asked to sleep (well under a second on native). */
// lab:start (the README's lab removal block deletes these lines)
// The room is for the lab's wasm runtime, whose stops can take far longer
// (30 counters once took 31 s, docs/performance.md); the wasm parity run
// once saw two coordinators still awake after the default 15 s.
// lab:end
const SLEEP_TIMEOUT_MS = 40_000;

/**
 * Puts an actor to sleep as the engine does when idle (`POST /actors/{id}/sleep`) and waits until it is
 * reported asleep; the next call wakes it, with its data from storage.
 */
export async function sleepActor(actorId: string): Promise<void> {
	const res = await fetch(`${engineUrl()}/actors/${actorId}/sleep?namespace=default`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: "{}",
	});
	expect(res.status).toBe(200);
	await expect.poll(() => isAsleep(actorId), { timeout: SLEEP_TIMEOUT_MS }).toBe(true);
}

/** Whether the engine has the actor asleep. Asking the management API does not wake it. */
export async function isAsleep(actorId: string): Promise<boolean> {
	const list = await fetch(`${engineUrl()}/actors?namespace=default&actor_ids=${actorId}`);
	const body = (await list.json()) as { actors: Array<{ sleep_ts: number | null }> };
	return (body.actors[0]?.sleep_ts ?? null) !== null;
}

/**
 * How long a test waits for `dispose()`: in rivetkit 2.3.19 it waits for the
 * socket's close event with no limit, which after a refused subscription never
 * came in 2 of 10 wasm parity runs (2026-12-01). The web app never awaits it either.
 */
export const DISPOSE_WAIT_MS = 5_000;

/** Disposes `conns`, waiting at most DISPOSE_WAIT_MS for their sockets to close. */
export async function disposeConnections(...conns: Array<{ dispose(): Promise<void> }>): Promise<void> {
	let timer: NodeJS.Timeout | undefined;
	const bound = new Promise<void>((resolve) => {
		timer = setTimeout(resolve, DISPOSE_WAIT_MS);
	});
	try {
		await Promise.race([Promise.all(conns.map((c) => c.dispose())), bound]);
	} finally {
		clearTimeout(timer);
	}
}

// example-actors:start (the README's removal block deletes these lines)
/** Signs in as an operator (the test server runs with the development operator token). */
export function signInOperator(name = "ops"): Promise<SignedIn> {
	return signIn(appUrl(), name, { operatorToken: DEV_OPERATOR_TOKEN });
}

/**
 * How long a test's server token lasts. The app's own last 60 s
 * (SERVER_TOKEN_TTL_S), minted per call; a test holds one through a crash
 * and recovery, which can take longer.
 */
const TEST_SERVER_TOKEN_TTL_S = 15 * 60;

/**
 * Connection params with a server token, as an actor of the app would send.
 * No HTTP route issues one: tests mint it in-process with the development
 * secret that test servers run with.
 */
export async function serverParams(): Promise<{ token: string }> {
	const { token } = await signServerToken(DEV_AUTH_SECRET, TEST_SERVER_TOKEN_TTL_S);
	return { token };
}

export interface RawResponse {
	status: number;
	body: Record<string, unknown>;
}

/** `POST /gateway/{id}/action/{name}` with connection params and extra headers, as a browser or curl would. */
export async function rawAction(
	actorId: string,
	action: string,
	args: unknown[],
	options: { params?: unknown; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
	const res = await fetch(`${engineUrl()}/gateway/${actorId}/action/${action}`, {
		method: "POST",
		headers: {
			"content-type": "application/json",
			...(options.params === undefined ? {} : { "x-rivet-conn-params": JSON.stringify(options.params) }),
			...options.headers,
		},
		body: JSON.stringify({ args }),
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Opens the actor's client WebSocket (`/gateway/{id}/connect`) with an
 * `Origin` header, as a browser page on that origin would, and resolves with
 * the first message the actor sends (JSON encoding): `Init` when the
 * connection is accepted, `Error` when its connect hook rejects it.
 */
export async function firstWebSocketMessage(actorId: string, params: unknown, origin: string): Promise<unknown> {
	const url = `${engineUrl().replace(/^http/, "ws")}/gateway/${actorId}/connect`;
	const protocols = ["rivet", "rivet_encoding.json", `rivet_conn_params.${encodeURIComponent(JSON.stringify(params))}`];
	// Node's WebSocket (undici) accepts headers; a browser sets Origin itself.
	const ws = new WebSocket(url, { protocols, headers: { origin } });
	try {
		return await new Promise((resolve, reject) => {
			ws.addEventListener("message", (event) => resolve(JSON.parse(String(event.data))));
			ws.addEventListener("error", () => reject(new Error("websocket error")));
			ws.addEventListener("close", (event) => reject(new Error(`closed before a message (${event.code})`)));
		});
	} finally {
		ws.close();
	}
}
// example-actors:end
