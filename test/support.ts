// Helpers shared by the tests: typed clients (on the test engine, the fixture
// engine, or any engine a test starts), unique keys, the auth routes as a
// browser calls them, what a call throws, a server that refuses to boot.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Registry as AnyRegistry, RegistryActors } from "rivetkit";
import { createClient } from "rivetkit/client";
import { expect, inject, onTestFinished } from "vitest";
import { SESSION_COOKIE, type TokenResponse } from "../src/auth/routes.ts";
import type { Registry } from "../src/registry.ts";
import { SettingsError } from "../src/settings.ts";
import { startServerForPool } from "../tools/local/stack.ts";
import { FIXTURE_SERVER_ENTRY } from "./fixtures/entry.ts";
import type { FixtureRegistry } from "./fixtures/registry.ts";

export const engineUrl = (): string => inject("engineUrl");
export const appUrl = (): string => inject("appUrl");
/** The fixture stack (test/setup/global.ts): the tests' own actors, on an engine of their own. */
export const fixtureEngineUrl = (): string => inject("fixtureEngineUrl");
export const fixtureAppUrl = (): string => inject("fixtureAppUrl");
export const fixturePool = (): string => inject("fixturePool");

/** A key no other test (or earlier run) uses. */
export function uniqueKey(prefix: string): string {
	return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A client typed by `R` on the engine at `endpoint`, disposed when the test ends: every suite's clients come from here. */
export function clientOn<R extends AnyRegistry<RegistryActors>>(endpoint: string, poolName?: string) {
	const client = createClient<R>({ endpoint, ...(poolName ? { poolName } : {}) });
	onTestFinished(() => client.dispose());
	return client;
}

/** A client on the test engine, disposed when the test ends. */
export function testClient(options: { poolName?: string } = {}) {
	return clientOn<Registry>(engineUrl(), options.poolName);
}

/** A client on the fixture engine, disposed when the test ends. */
export function fixtureClient(options: { poolName?: string } = {}) {
	return clientOn<FixtureRegistry>(fixtureEngineUrl(), options.poolName);
}

/** One more fixture app server on a pool of its own, with `env` added; stopped at the test's end; `log()` reads its log. */
export async function fixtureServerWith(prefix: string, env: Record<string, string | undefined>) {
	const pool = uniqueKey(prefix);
	const dataDir = inject("fixtureDataDir");
	const server = await startServerForPool(fixtureEngineUrl(), { pool, dataDir, entry: FIXTURE_SERVER_ENTRY, env });
	onTestFinished(() => server.stop().then(() => undefined));
	const logFile = path.join(dataDir, `server-${pool}-${new URL(server.url).port}.log`);
	return { pool, server, log: () => readFileSync(logFile, "utf8") };
}

// example-actors:start (the README's removal block deletes these lines)
/** Get-or-create an actor through the management API (`PUT /actors`). */
export async function putActor(name: string, key: string, pool = inject("pool")): Promise<string> {
	const res = await fetch(`${engineUrl()}/actors?namespace=default`, {
		method: "PUT",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name, key, runner_name_selector: pool, crash_policy: "sleep" }),
	});
	if (!res.ok) throw new Error(`PUT /actors failed: ${res.status} ${await res.text()}`);
	const body = (await res.json()) as { actor: { actor_id: string } };
	return body.actor.actor_id;
}
// example-actors:end

// lab:start (the README's lab removal block deletes these lines)
// Raw gateway calls: the counter's test and the lab's debug-client tests.
export interface GatewayResult {
	status: number;
	body: Record<string, unknown>;
}

/** `POST /gateway/{id}/action/{name}` with a JSON body, as any HTTP client would; the test engine's unless `engine` says. */
export async function gatewayAction(
	actorId: string,
	action: string,
	args: unknown,
	engine = engineUrl(),
): Promise<GatewayResult> {
	const res = await fetch(`${engine}/gateway/${actorId}/action/${action}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ args }),
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
// lab:end

/** Runs a server entry with `env` added until it exits (a boot refusal): its exit code and stderr. */
export async function runUntilExit(
	env: Record<string, string>,
	entry = "src/server.ts",
): Promise<{ code: number | null; stderr: string }> {
	const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env } });
	let stderr = "";
	child.stderr.on("data", (d: Buffer) => {
		stderr += d.toString();
	});
	const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
	return { code, stderr };
}

/** The variables a settings error names, one per line ("  NAME: why"), sorted. */
export const namedFields = (lines: string[]): string[] => lines.map((l) => l.trim().split(":")[0] ?? "").sort();

/** What `promise` rejects with (a refusal's `code`); the test fails if it resolves. */
export async function refusal(promise: Promise<unknown>): Promise<{ group?: string; code?: string }> {
	return (await promise.then(
		() => expect.unreachable("it resolved"),
		(error: unknown) => error,
	)) as { group?: string; code?: string };
}

/** The lines of the `SettingsError` that `parse` throws (the test fails if it returns): what the server prints. */
export function settingsErrorLines(parse: () => unknown): string[] {
	try {
		parse();
	} catch (error) {
		expect(error).toBeInstanceOf(SettingsError);
		return (error as SettingsError).lines;
	}
	return expect.unreachable("nothing was thrown");
}

/** Anything that answers a request: `fetch`, or an in-process Hono app's `fetch`. */
export type Fetcher = (request: Request) => Response | Promise<Response>;

/** The auth routes' JSON answer: a token, or a refusal's code. */
export type AuthAnswer = { res: Response; body: TokenResponse & { code?: string } };

/** `POST /api/auth/sign-in` as the web app sends it; `headers` adds to it (an operator's `authorization`). */
export async function postSignIn(
	base: string,
	body: unknown = { name: "tester" },
	headers: Record<string, string> = {},
	fetcher: Fetcher = fetch,
): Promise<AuthAnswer> {
	const init = {
		method: "POST",
		headers: { "content-type": "application/json", ...headers },
		body: JSON.stringify(body),
	};
	const res = await fetcher(new Request(`${base}/api/auth/sign-in`, init));
	return { res, body: (await res.clone().json()) as AuthAnswer["body"] };
}

/** `POST /api/auth/token` with the session cookie (`cookie`, as a Cookie header), or with none. */
export async function postRefresh(base: string, cookie?: string, fetcher: Fetcher = fetch): Promise<AuthAnswer> {
	const res = await fetcher(
		new Request(`${base}/api/auth/token`, { method: "POST", headers: cookie ? { cookie } : {} }),
	);
	return { res, body: (await res.json()) as AuthAnswer["body"] };
}

/** `fleet_session=<token>` (`__Host-` prefixed in production) from a response's Set-Cookie, ready for a Cookie header. */
export function sessionCookie(res: Response): string {
	const cookie = res.headers.getSetCookie().find((c) => c.includes(`${SESSION_COOKIE}=`));
	if (!cookie) throw new Error("no session cookie was set");
	return cookie.split(";")[0] ?? "";
}
