// Hostile input: every public action and route gets wrong types, missing and
// extra fields, oversized payloads, malformed JSON, prototype names, weird
// keys and invalid actor ids, from a signed-in caller. Each is refused with a
// stable code and no internal detail, the server stays up, and the actor's
// state is unchanged. Then unauthorized callers: the authorization matrix
// (test/actors/access-matrix.ts) over every actor, counted for the suite's
// summary line.

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { signIn } from "../../tools/client/auth.ts";
import {
	type Credentials,
	chatSubject,
	counterSubject,
	jobsSubjects,
	type MatrixEnv,
	type MatrixSubject,
	makeCredentials,
	paramsFor,
	quotaSubject,
	runMatrix,
} from "../actors/access-matrix.ts";
import { faultCounts } from "./counters.ts";

const counts = faultCounts("hostile");
const engine = () => inject("engineUrl");

/** The connection params header of a signed-in user, sent with every hostile call below. */
let auth: Record<string, string> = {};

beforeAll(async () => {
	const user = await signIn(inject("appUrl"), "hostile");
	auth = { "x-rivet-conn-params": JSON.stringify(user.params) };
});

interface Reply {
	status: number;
	body: Record<string, unknown>;
	text: string;
}

async function raw(path: string, init: RequestInit = {}): Promise<Reply> {
	counts.hostile++;
	const res = await fetch(`${engine()}${path}`, init);
	const text = await res.text();
	let body: Record<string, unknown> = {};
	try {
		body = JSON.parse(text) as Record<string, unknown>;
	} catch {
		// Not JSON; `text` is checked instead.
	}
	return { status: res.status, body, text };
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
	return raw(path, { method: "POST", headers: { "content-type": "application/json", ...auth, ...headers }, body });
}

async function putActor(name: string, key: string): Promise<string> {
	const res = await fetch(`${engine()}/actors?namespace=default`, {
		method: "PUT",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name, key, runner_name_selector: inject("pool"), crash_policy: "sleep" }),
	});
	const body = (await res.json()) as { actor: { actor_id: string } };
	return body.actor.actor_id;
}

async function call(id: string, action: string, args: unknown[]): Promise<unknown> {
	const reply = await fetch(`${engine()}/gateway/${id}/action/${action}`, {
		method: "POST",
		headers: { "content-type": "application/json", ...auth },
		body: JSON.stringify({ args }),
	});
	return ((await reply.json()) as { output: unknown }).output;
}

/** A hash of everything a client can observe of a counter. */
async function counterHash(id: string): Promise<string> {
	const observed = { count: await call(id, "getCount", []), timers: await call(id, "listTimers", []) };
	return createHash("sha256").update(JSON.stringify(observed)).digest("hex");
}

/** No stack traces, file paths or internal error chains in a reply. */
function expectNoInternals(reply: Reply): void {
	expect(reply.text).not.toMatch(/\bat \S+:\d+|node_modules|\/src\/|stack|Caused by/i);
}

describe("counter actions", () => {
	let id: string;
	let before: string;

	beforeAll(async () => {
		id = await putActor("counter", `hostile-${Date.now()}`);
		await call(id, "increment", [4]);
		await call(id, "incrementLater", [1, 3_600_000]);
		before = await counterHash(id);
	});

	const badArgs: Array<[string, unknown[]]> = [
		["increment", []],
		["increment", ["5"]],
		["increment", [1.5]],
		["increment", [-1]],
		["increment", [1e308]],
		["increment", [null]],
		["increment", [{ amount: 1 }]],
		["increment", [[1]]],
		["increment", [1, { requestId: 5 }]],
		["increment", [1, { requestId: "r", extra: true }]],
		["increment", [1, "not-options"]],
		["increment", [1, { requestId: "x".repeat(200) }]],
		["incrementLater", [1]],
		["incrementLater", [1, "soon"]],
		["incrementLater", [1, -1]],
		["incrementLater", [0, 1_000]],
		["incrementLater", [1, Number.MAX_SAFE_INTEGER]],
		["resetAt", []],
		["resetAt", ["tomorrow"]],
		["resetAt", [-5]],
		["resetAt", [Date.now() + 10 * 365 * 24 * 3_600_000]],
		["fireTimer", []],
		["fireTimer", ["00000000-0000-0000-0000-000000000000"]],
		["fireTimer", [{ id: "x" }]],
		["fireTimer", ["00000000-0000-0000-0000-000000000000", "a-guessed-secret"]],
	];

	test.each(badArgs)("%s(%j) is refused with a user error code", async (action, args) => {
		const reply = await post(`/gateway/${id}/action/${action}`, JSON.stringify({ args }));
		// rivetkit answers a UserError over raw HTTP with status 500 and the
		// error in the body; the body's group and code are the contract.
		expect(reply.body.group).toBe("user");
		expect(["invalid_input", "forbidden", "timestamp_out_of_range"]).toContain(reply.body.code);
		expectNoInternals(reply);
	});

	test("malformed bodies get 400 without detail", async () => {
		for (const body of ['{"args":[1', "", "[1,2]", "null", `{"args":${"[".repeat(10_000)}${"]".repeat(10_000)}}`]) {
			const reply = await post(`/gateway/${id}/action/increment`, body);
			expect(reply.status).toBe(400);
			expectNoInternals(reply);
		}
		const badParams = await post(`/gateway/${id}/action/getCount`, '{"args":[]}', {
			"x-rivet-conn-params": "{not json",
		});
		expect(badParams.status).toBe(400);
	});

	test("oversized payloads get 400 incoming_too_long", async () => {
		for (const size of [100_000, 1_000_000]) {
			const reply = await post(`/gateway/${id}/action/increment`, JSON.stringify({ args: ["x".repeat(size)] }));
			expect(reply.status).toBe(400);
			expect(reply.body.code).toBe("incoming_too_long");
		}
	});

	test("prototype and unknown action names get 404 action_not_found", async () => {
		for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "nope"]) {
			const reply = await post(`/gateway/${id}/action/${name}`, '{"args":[]}');
			expect(reply.status).toBe(404);
			expect(reply.body.code).toBe("action_not_found");
		}
	});

	test("after all of it the counter's state is unchanged", async () => {
		expect(await counterHash(id)).toBe(before);
	});
});

describe("actor ids and keys", () => {
	test("an unknown but well-formed actor id gets 404 not_found", async () => {
		const reply = await post("/gateway/x4xhpifl1bkbakax819x32zj4adl00/action/getCount", '{"args":[]}');
		expect(reply.status).toBe(404);
		expect(reply.body.code).toBe("not_found");
	});

	test("malformed actor ids are refused with a generic error and no detail", async () => {
		// The engine's gateway (2.3.19) answers these with 500 core/internal_error
		// rather than a 4xx; nothing in this app can change that. What matters:
		// nothing leaks and nothing runs.
		for (const bad of ["not-an-id", "a".repeat(2_000), "..%2F..%2Factors", "%00"]) {
			const reply = await post(`/gateway/${bad}/action/getCount`, '{"args":[]}');
			expect(reply.status).toBeGreaterThanOrEqual(400);
			expect(reply.body.group === "core" || reply.body.group === "guard" || reply.status === 404).toBe(true);
			expectNoInternals(reply);
		}
	});

	test("weird keys are distinct actors with their own state", async () => {
		const keys = ["😀", "k".repeat(1_000), "x-a/b", '["x","a"]', "  "];
		const ids = await Promise.all(keys.map((key) => putActor("counter", `${key}-${Date.now()}`)));
		expect(new Set(ids).size).toBe(keys.length);
		for (const [i, kid] of ids.entries()) {
			const reply = await post(`/gateway/${kid}/action/increment`, JSON.stringify({ args: [i + 1] }));
			expect({ key: keys[i], reply: reply.body }).toEqual({ key: keys[i], reply: { output: i + 1 } });
		}
	});

	test("a key with a NUL byte yields an actor that fails alone, without detail", async () => {
		// The engine's management API accepts the key (2.3.19), but the actor
		// cannot start; it answers a generic error and nothing else is affected.
		const id = await putActor("counter", `a\u0000b-${Date.now()}`);
		const reply = await post(`/gateway/${id}/action/increment`, JSON.stringify({ args: [1] }));
		expect(reply.body).toMatchObject({ group: "core", code: "internal_error" });
		expectNoInternals(reply);
		const healthy = await putActor("counter", `after-nul-${Date.now()}`);
		expect(await call(healthy, "increment", [2])).toBe(2);
	});
});

describe("the Hono app's routes", () => {
	const app = () => inject("appUrl");

	async function appReply(path: string, init: RequestInit = {}): Promise<Reply> {
		counts.hostile++;
		const res = await fetch(`${app()}${path}`, init);
		const text = await res.text();
		let body: Record<string, unknown> = {};
		try {
			body = JSON.parse(text) as Record<string, unknown>;
		} catch {}
		return { status: res.status, body, text };
	}

	test("unknown API routes and methods get a JSON 404", async () => {
		for (const path of ["/api/nope", "/api/../../api/x", "/api/%00", `/api/${"a".repeat(4_000)}`]) {
			const reply = await appReply(path);
			expect(reply.status).toBe(404);
			expect(reply.body).toMatchObject({ code: "not_found" });
			expectNoInternals(reply);
		}
		expect((await appReply("/health", { method: "DELETE" })).status).toBe(404);
	});

	test("page paths get the web app (or a 404), never a file from outside it", async () => {
		// Other paths belong to the web app's SPA fallback (src/web-assets.ts).
		for (const path of ["/nope", "/../../etc/passwd", "/%00", "/%2e%2e/package.json", `/${"a".repeat(4_000)}`]) {
			const reply = await appReply(path);
			// 200 is index.html; 404 is "not built yet" or, for a file path, a JSON not_found.
			if (reply.status === 200) expect(reply.text).toContain('<div id="root">');
			else expect(reply.status).toBe(404);
			expect(reply.text).not.toMatch(/root:x:0:0|"devDependencies"/);
			expectNoInternals(reply);
		}
	});

	test("the serverless endpoint refuses starts that do not come from the engine", async () => {
		const reply = await appReply("/api/rivet/start", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: "{}",
		});
		expect(reply.status).toBeGreaterThanOrEqual(400);
		expect(reply.status).toBeLessThan(500);
		expectNoInternals(reply);
		// The server is still serving.
		expect((await fetch(`${app()}/health`)).status).toBe(200);
	});
});

describe("unauthorized callers", () => {
	const env = (): MatrixEnv => ({ engineUrl: engine(), appUrl: inject("appUrl"), pool: inject("pool") });
	let refused = 0;
	const changed: string[] = [];

	afterAll(() => {
		console.log(`\nhostile: ${refused} unauthorized calls refused, ${changed.length} changed state`);
	});

	test("every actor refuses every caller its access table does not list, and refusals change nothing", async () => {
		// The families run at the same time, each with users of its own: an
		// owner's quota moves when that owner creates a counter or submits a
		// batch, so a family sharing users with the quota's would see changes
		// the refused calls did not make. Within a family the cells run one
		// after another, each refusal followed by its snapshot.
		const families: Array<(creds: Credentials) => Promise<MatrixSubject[]>> = [
			async (creds) => [await counterSubject(creds)],
			async (creds) => [await chatSubject(creds)],
			(creds) => jobsSubjects(creds),
			async (creds) => [await quotaSubject(creds)],
		];
		const mismatches: string[] = [];
		await Promise.all(
			families.map(async (subjectsOf) => {
				const creds = await makeCredentials(env());
				for (const subject of await subjectsOf(creds)) {
					const result = await runMatrix(
						env(),
						subject,
						(credential) => paramsFor(creds, subject, credential),
						() => {
							counts.hostile++;
							counts.unauthorized++;
						},
					);
					refused += result.refused;
					changed.push(...result.changed);
					counts.changedState += result.changed.length;
					mismatches.push(...result.mismatches);
				}
			}),
		);
		expect(mismatches).toEqual([]);
		expect(changed).toEqual([]);
	}, 300_000);
});
