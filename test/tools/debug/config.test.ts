// The debug client's pure parts: endpoint parsing, key encoding, local
// rejection of bad list queries, and one-line error descriptions.

import { describe, expect, test } from "vitest";
import { describeError } from "../../../tools/debug/cli/output.ts";
import { resolveEngineConfig } from "../../../tools/debug/config.ts";
import { DebugInputError, RivetApiError, WorkflowInFlightError } from "../../../tools/debug/errors.ts";
import { serializeActorKey } from "../../../tools/debug/keys.ts";
import { validateListActorsQuery } from "../../../tools/debug/management.ts";
import { describeWorkflowHistory } from "../../../tools/debug/workflow-history.ts";

describe("resolveEngineConfig", () => {
	test("local default: no credentials", () => {
		expect(resolveEngineConfig({})).toEqual({
			endpoint: "http://127.0.0.1:6420",
			namespace: "default",
			token: undefined,
			pool: "default",
		});
		expect(resolveEngineConfig({ RIVET_ENDPOINT: "http://localhost:6420/" }).endpoint).toBe("http://localhost:6420");
	});

	test("https://<namespace>:<token>@<host> carries both, and the endpoint loses them", () => {
		expect(resolveEngineConfig({ RIVET_ENDPOINT: "https://my-ns:sk_abc%2F1@api.rivet.dev" })).toEqual({
			endpoint: "https://api.rivet.dev",
			namespace: "my-ns",
			token: "sk_abc/1",
			pool: "default",
		});
	});

	test("RIVET_NAMESPACE / RIVET_TOKEN override the URL, and explicit overrides win over both", () => {
		const env = { RIVET_ENDPOINT: "https://ns:tok@api.rivet.dev", RIVET_NAMESPACE: "other", RIVET_TOKEN: "t2" };
		expect(resolveEngineConfig(env)).toMatchObject({ namespace: "other", token: "t2" });
		expect(resolveEngineConfig(env, { namespace: "cli", token: "t3", pool: "p" })).toMatchObject({
			namespace: "cli",
			token: "t3",
			pool: "p",
		});
		// Empty values count as unset, as in a .env file.
		expect(resolveEngineConfig({ ...env, RIVET_TOKEN: "" })).toMatchObject({ token: "tok" });
	});

	test("a malformed endpoint is rejected locally", () => {
		expect(() => resolveEngineConfig({ RIVET_ENDPOINT: "not a url" })).toThrow(DebugInputError);
		expect(() => resolveEngineConfig({ RIVET_ENDPOINT: "ftp://x" })).toThrow(/http/);
	});
});

describe("keys", () => {
	test("keys encode the way rivetkit's client stores them", () => {
		expect(serializeActorKey("lobby")).toBe("lobby");
		expect(serializeActorKey(["org", "room"])).toBe("org/room");
		expect(serializeActorKey(["a/b"])).toBe("a\\/b");
		expect(serializeActorKey(["", "x"])).toBe("\\0/x");
		expect(serializeActorKey([])).toBe("/");
	});
});

describe("list queries are checked before sending", () => {
	const id = "lb6sz7e4l1av6w462exobkikl8cl00";
	test.each([
		[{ key: "k" }, /needs a name/],
		[{ name: "tally", ids: [id] }, /not both/],
		[{ key: "k", ids: [id] }, /not both/],
		[{}, /by name/],
		[{ ids: ["NOT-AN-ID"] }, /not an actor id/],
		[{ ids: Array.from({ length: 33 }, () => id) }, /at most 32/],
		[{ name: "tally", limit: 0 }, /positive/],
	])("%j is rejected", (query, message) => {
		expect(() => validateListActorsQuery(query)).toThrow(message);
	});

	test("valid combinations pass", () => {
		for (const query of [{ name: "tally" }, { name: "tally", key: ["a", "b"] }, { ids: [id] }]) {
			expect(() => validateListActorsQuery(query)).not.toThrow();
		}
	});
});

describe("error descriptions", () => {
	const error = new RivetApiError({
		status: 500,
		group: "core",
		code: "internal_error",
		message: "An internal error occurred",
		metadata: { error: 'actor x\n\nCaused by:\n    near "SELEC": syntax error\n\nStack backtrace:\n   0: foo' },
		request: "POST /gateway/x/inspector/database/execute",
	});

	test("are one line, with the engine's group.code and the root cause of internal errors", () => {
		const line = describeError(error);
		expect(line).not.toContain("\n");
		expect(line).toBe(
			'core.internal_error: An internal error occurred (near "SELEC": syntax error) [HTTP 500, POST /gateway/x/inspector/database/execute]',
		);
	});

	test("a workflow in flight says what to do", () => {
		const inFlight = new WorkflowInFlightError(
			new RivetApiError({
				status: 409,
				group: "actor",
				code: "workflow_in_flight",
				message: "Workflow replay is unavailable while the workflow is currently in flight.",
				metadata: null,
				request: "POST /gateway/x/inspector/workflow/replay",
			}),
		);
		expect(inFlight).toBeInstanceOf(RivetApiError);
		expect(describeError(inFlight)).toMatch(/^workflow is in flight: actor\.workflow_in_flight: .* replay only works/);
	});
});

describe("workflow history", () => {
	const name = (val: number) => ({ tag: "WorkflowNameIndex" as const, val });
	const iteration = (n: number) => ({ tag: "WorkflowLoopIterationMarker" as const, val: { loop: 0, iteration: n } });
	const step = { tag: "WorkflowStepEntry", val: { output: 1, error: null } };
	const meta = { status: "COMPLETED", error: null, attempts: 1, createdAt: 1, completedAt: 2 };

	test("entries read as paths, in the order they ran, whatever order the inspector lists them in", () => {
		const history = {
			nameRegistry: ["jobs", "lookup", "store"],
			entries: [
				{ id: "s1", location: [name(0), iteration(1), name(2)], kind: step },
				{ id: "l0", location: [name(0), iteration(0), name(1)], kind: step },
				{ id: "loop", location: [name(0)], kind: { tag: "WorkflowLoopEntry", val: {} } },
				{ id: "s0", location: [name(0), iteration(0), name(2)], kind: step },
			],
			entryMetadata: { s0: meta, s1: meta, l0: meta },
		};
		expect(describeWorkflowHistory(history).map((e) => [e.path, e.kind, e.status])).toEqual([
			["jobs", "loop", null],
			["jobs[0]/lookup", "step", "COMPLETED"],
			["jobs[0]/store", "step", "COMPLETED"],
			["jobs[1]/store", "step", "COMPLETED"],
		]);
	});
});
