// Removing the example actors leaves a project that works: in a temporary
// copy of the repository, this runs the README's removal block as a user
// would paste it, adds one small actor the way "Add an actor" says, then
// typechecks, lints and runs the product's tests there (with an engine and
// servers of the copy's own, started by the copy's global setup).
//
// The copy holds the files git tracks, as they are on disk, and a link to
// this checkout's node_modules (an install would take minutes).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../tools/local/app-server.ts";

/** The copy's typecheck, lint and product tests, together; the test suite's own budget is a few minutes. */
const REMOVAL_TEST_TIMEOUT_MS = 300_000;
/** How long one command in the copy may run before it counts as hung. */
const COMMAND_TIMEOUT_MS = 240_000;

/**
 * The product's tests: what a fork keeps whichever actors it has (server,
 * app, sign-in and tokens, settings, the import graph, the registry), plus
 * the new actor's own test. The harness suites (test/tools/, test/cluster/)
 * run on fixture actors and are unchanged by the removal; they run in the
 * repository's own suites.
 */
const PRODUCT_TESTS = [
	"test/app.test.ts",
	"test/env.test.ts",
	"test/registry.test.ts",
	"test/layout.test.ts",
	"test/server.test.ts",
	"test/runtime.test.ts",
	"test/auth/",
	"test/actors/",
];

/** The README's removal block: the shell code between the `remove-examples` markers. */
function removalBlock(readme: string): string {
	const match = /<!-- remove-examples:start -->\s*```(?:sh|bash)\n([\s\S]*?)```\s*<!-- remove-examples:end -->/.exec(
		readme,
	);
	if (!match?.[1]) throw new Error("README.md has no ```sh block between the remove-examples markers");
	return match[1];
}

// One small actor, written the way the README's "Add an actor" says: a
// folder for its family with a contract and the actor, arguments checked
// with zod through `parseInput`, callers identified by a verified token, the
// state saved before the call is acknowledged, registered in
// `src/registry.ts`, and a test under `test/actors/<family>/`.
const NEW_ACTOR_FILES: Record<string, string> = {
	"src/actors/guestbook/contract.ts": `// The guestbook's contract: types and limits the web app may import.

/** Longest entry, in characters. */
export const MAX_ENTRY_LENGTH = 280;
/** Entries one guestbook keeps; the oldest go first. */
export const MAX_ENTRIES = 100;

export interface GuestbookEntry {
	userId: string;
	name: string;
	text: string;
	/** When it was signed (epoch milliseconds). */
	at: number;
}
`,
	"src/actors/guestbook/guestbook.ts": `// guestbook: signed-in people leave a line.
//
// Key: \`[name]\`, any guestbook name.
// Owns: the newest MAX_ENTRIES entries, in its state.
// Flow: a connection authenticates its token once; \`sign\` validates the
// text, appends an entry by the caller, saves, then acknowledges.

import { actor } from "rivetkit";
import { z } from "zod";
import { authenticate, type ConnParams, type Identity, requireUser } from "../../auth/connection.ts";
import { parseInput } from "../validate.ts";
import { type GuestbookEntry, MAX_ENTRIES, MAX_ENTRY_LENGTH } from "./contract.ts";

const textSchema = z.string().trim().min(1).max(MAX_ENTRY_LENGTH);

export const guestbook = actor({
	options: { name: "Guestbook", icon: "book" },
	state: { entries: [] as GuestbookEntry[] },
	onBeforeConnect: async (_c, params: ConnParams) => {
		await authenticate(params);
	},
	createConnState: (_c, params: ConnParams): Promise<Identity> => authenticate(params),
	actions: {
		sign: async (c, text: string): Promise<GuestbookEntry> => {
			const user = requireUser(c.conn?.state);
			const entry = {
				userId: user.userId,
				name: user.name,
				text: parseInput(textSchema, text, "text"),
				at: Date.now(),
			};
			c.state.entries.push(entry);
			if (c.state.entries.length > MAX_ENTRIES) c.state.entries.shift();
			// Saved before the acknowledgement, so a crash cannot lose an acknowledged entry.
			await c.saveState({ immediate: true });
			return entry;
		},

		entries: (c): GuestbookEntry[] => {
			requireUser(c.conn?.state);
			return c.state.entries;
		},
	},
});
`,
	"src/registry.ts": `// The registry: every actor this app serves. Importing it has no side effects.
import { setup } from "rivetkit";
import { guestbook } from "./actors/guestbook/guestbook.ts";

export const registry = setup({ use: { guestbook } });

export type Registry = typeof registry;

/** Parses every actor family's settings now rather than on first use; \`src/server.ts\` calls it at boot. */
export function checkActorSettings(): void {}
`,
	"test/actors/guestbook/guestbook.test.ts": `// The guestbook against the real engine: signed-in callers sign it, strangers
// are refused and change nothing, and entries survive a sleep.

import { expect, test } from "vitest";
import { appUrl, testClient, uniqueKey } from "../../support.ts";
import { sleepActor } from "../helpers.ts";

async function signIn(name: string): Promise<string> {
	const res = await fetch(\`\${appUrl()}/api/auth/sign-in\`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name }),
	});
	expect(res.status).toBe(200);
	return ((await res.json()) as { token: string }).token;
}

test("a signed-in caller signs; a stranger is refused; entries survive a sleep", async () => {
	const key = [uniqueKey("guestbook")];
	const client = testClient();
	const book = client.guestbook.getOrCreate(key, { params: { token: await signIn("ann") } });
	expect(await book.sign("  hello  ")).toMatchObject({ name: "ann", text: "hello" });

	const stranger = client.guestbook.getOrCreate(key);
	await expect(stranger.sign("let me in")).rejects.toMatchObject({ code: "unauthenticated" });
	await expect(book.sign("")).rejects.toMatchObject({ code: "invalid_input" });

	await sleepActor(await book.resolve());
	expect((await book.entries()).map((e) => e.text)).toEqual(["hello"]);
});
`,
};

let copy: string;
const running = new Set<ChildProcess>();

/** Runs `command` in the copy; resolves with its exit code and output. */
function runInCopy(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
	// The copy's vitest is a run of its own: nothing of this run's vitest may leak into it.
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "NODE_ENV"),
	);
	return new Promise((resolve) => {
		const child = spawn(command, args, { cwd: copy, env, stdio: ["ignore", "pipe", "pipe"] });
		running.add(child);
		let output = "";
		child.stdout.on("data", (d: Buffer) => {
			output += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			output += d.toString();
		});
		const timer = setTimeout(() => child.kill("SIGTERM"), COMMAND_TIMEOUT_MS);
		child.once("exit", (code) => {
			clearTimeout(timer);
			running.delete(child);
			resolve({ code, output });
		});
	});
}

/** The last lines of a command's output, for a failure message. */
const tail = (output: string) => output.trimEnd().split("\n").slice(-60).join("\n");

beforeAll(() => {
	copy = mkdtempSync(path.join(tmpdir(), "actor-fleet-removal-"));
	const files = execFileSync("git", ["ls-files", "-z"], { cwd: PROJECT_ROOT, encoding: "utf8" }).split("\0");
	for (const file of files) {
		// A file deleted in the working tree but not yet in git is not copied.
		if (file === "" || !existsSync(path.join(PROJECT_ROOT, file))) continue;
		mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
		cpSync(path.join(PROJECT_ROOT, file), path.join(copy, file));
	}
	symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
});

afterAll(() => {
	for (const child of running) child.kill("SIGTERM");
	if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("the README's removal block", () => {
	test("is a shell block between the markers", () => {
		const block = removalBlock(readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8"));
		expect(block).toContain("src/actors/counter");
		expect(block).toContain("src/registry.ts");
	});

	test(
		"leaves a project that typechecks, lints and passes its product tests with one new actor",
		async () => {
			const block = removalBlock(readFileSync(path.join(copy, "README.md"), "utf8"));
			const removed = await runInCopy("bash", ["-e", "-c", block]);
			expect(removed.code, tail(removed.output)).toBe(0);
			// The examples are gone.
			for (const gone of ["src/actors/counter", "src/actors/chat-room", "src/actors/jobs", "test/faults"]) {
				expect(existsSync(path.join(copy, gone)), gone).toBe(false);
			}

			for (const [file, text] of Object.entries(NEW_ACTOR_FILES)) {
				mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
				writeFileSync(path.join(copy, file), text);
			}

			for (const [command, args] of [
				["npx", ["tsc", "-p", "tsconfig.json"]],
				["npx", ["tsc", "-p", "web/tsconfig.json"]],
				["npx", ["biome", "check", "."]],
				["npx", ["vitest", "run", ...PRODUCT_TESTS]],
			] as const) {
				const run = await runInCopy(command, [...args]);
				expect(run.code, `${command} ${args.join(" ")}:\n${tail(run.output)}`).toBe(0);
			}
		},
		REMOVAL_TEST_TIMEOUT_MS,
	);
});
