// Each generated `migrations.ts` (what the actors load) must equal drizzle-kit's
// files, and no schema may have changes that lack a migration.

import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { findDatabases, GENERATED_HEADER, readDrizzleOutput } from "../../tools/drizzle-output.ts";
import { PROJECT_ROOT } from "../../tools/local/app-server.ts";

const run = promisify(execFile);
const DATABASES = findDatabases(path.join(PROJECT_ROOT, "src", "actors")).map((dir) =>
	path.relative(PROJECT_ROOT, dir),
);

describe.each(DATABASES)("database %s", (relative) => {
	const dir = path.join(PROJECT_ROOT, relative);
	const name = path.basename(dir);

	test("migrations.ts is generated from drizzle-kit's files and matches them", async () => {
		const file = path.join(dir, "migrations.ts");
		expect(readFileSync(file, "utf8").startsWith(GENERATED_HEADER)).toBe(true);
		const generated = (await import(file)) as { journal: unknown; migrations: unknown };
		const fromDrizzleKit = readDrizzleOutput(path.join(dir, "migrations"));
		expect({ journal: generated.journal, migrations: generated.migrations }).toEqual(fromDrizzleKit);
		expect(fromDrizzleKit.journal.entries.length).toBeGreaterThan(0);
	});

	test("schema.ts has no changes that lack a migration", async () => {
		// drizzle-kit diffs the schema against the newest snapshot; run it on a
		// copy of the migrations so the check never writes into the project.
		const scratch = mkdtempSync(path.join(tmpdir(), `drift-${name}-`));
		try {
			cpSync(path.join(dir, "migrations"), path.join(scratch, "out"), { recursive: true });
			const { stdout } = await run(
				process.execPath,
				[
					path.join(PROJECT_ROOT, "node_modules", "drizzle-kit", "bin.cjs"),
					"generate",
					"--dialect",
					"sqlite",
					// drizzle-kit resolves both paths against its working directory.
					"--schema",
					path.relative(scratch, path.join(dir, "schema.ts")),
					"--out",
					"out",
				],
				{ cwd: scratch },
			);
			expect(stdout).toContain("No schema changes");
			expect(readdirSync(path.join(scratch, "out")).sort()).toEqual(readdirSync(path.join(dir, "migrations")).sort());
		} finally {
			rmSync(scratch, { recursive: true, force: true });
		}
	});
});

test("every database under src/actors is covered", () => {
	// Every folder with a drizzle.config.ts, found without findDatabases.
	const configured = readdirSync(path.join(PROJECT_ROOT, "src", "actors"), { recursive: true, encoding: "utf8" })
		.filter((file) => path.basename(file) === "drizzle.config.ts")
		.map((file) => path.join("src", "actors", path.dirname(file)))
		.sort();
	expect([...DATABASES].sort()).toEqual(configured);
	// example-actors:start (the README's removal block deletes these lines)
	expect(DATABASES).toEqual(["src/actors/chat-room", "src/actors/jobs/coordinator-db", "src/actors/jobs/worker-db"]);
	// example-actors:end
});
