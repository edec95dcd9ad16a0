// `npm run db:generate`: in every folder with a `drizzle.config.ts`, drizzle-kit
// writes a migration for the changed schema, then `migrations.ts` is rewritten.
// Extra arguments go to drizzle-kit, e.g. `npm run db:generate -- --name add_reactions`.

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { findDatabases, readDrizzleOutput, renderMigrationsModule } from "./drizzle-output.ts";
import { PROJECT_ROOT } from "./local/app-server.ts";

const ACTORS_ROOT = path.join(PROJECT_ROOT, "src", "actors");

function run(command: string, args: string[]): void {
	const result = spawnSync(process.execPath, [command, ...args], { cwd: PROJECT_ROOT, stdio: "inherit" });
	if (result.status !== 0) {
		console.error(`db:generate: ${path.basename(command)} ${args.join(" ")} failed`);
		process.exit(result.status ?? 1);
	}
}

const drizzleKit = path.join(PROJECT_ROOT, "node_modules", "drizzle-kit", "bin.cjs");
const biome = path.join(PROJECT_ROOT, "node_modules", "@biomejs", "biome", "bin", "biome");
const written: string[] = [];

for (const dir of findDatabases(ACTORS_ROOT)) {
	const config = path.join(dir, "drizzle.config.ts");
	console.log(`• ${path.relative(PROJECT_ROOT, dir)}`);
	run(drizzleKit, ["generate", "--config", path.relative(PROJECT_ROOT, config), ...process.argv.slice(2)]);
	const outDir = path.join(dir, "migrations");
	const target = path.join(dir, "migrations.ts");
	writeFileSync(target, renderMigrationsModule(readDrizzleOutput(outDir), path.relative(PROJECT_ROOT, outDir)));
	written.push(path.relative(PROJECT_ROOT, target));
}

// Format the generated modules the way the rest of the code is formatted.
run(biome, ["format", "--write", ...written]);
console.log(`db:generate: wrote ${written.join(", ")}`);
