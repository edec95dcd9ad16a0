// `npm run lockfile:fill` (and `-- --check`): keeps `npm ci` working on every
// platform with a lockfile made on one.
//
// Why, what it adds and what those entries lack: docs/testing.md, "The
// lockfile and `npm ci`".

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** One `packages` entry of a version 2 or 3 lockfile, as far as this script reads it. */
export interface LockEntry {
	version?: string;
	optional?: boolean;
	dev?: boolean;
	devOptional?: boolean;
	optionalDependencies?: Record<string, string>;
	[field: string]: unknown;
}

export interface Lockfile {
	lockfileVersion: number;
	packages: Record<string, LockEntry>;
	[field: string]: unknown;
}

export interface MissingOptional {
	/** The lockfile key the new entry goes under, e.g. `node_modules/@rivetkit/engine-cli-win32-x64`. */
	location: string;
	name: string;
	version: string;
	/** The lockfile key of the package that names it. */
	requiredBy: string;
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export const LOCKFILE_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "package-lock.json");

/** The lockfile key Node would find `name` at from `from` (its node_modules, then each enclosing one). */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
	let base = from;
	for (;;) {
		const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
		if (packages[candidate]) return candidate;
		if (base === "") return undefined;
		const cut = base.lastIndexOf("/node_modules/");
		base = cut === -1 ? "" : base.slice(0, cut);
	}
}

/** Every optional dependency a locked package names that the lockfile has no entry for. */
export function findMissingOptional(lock: Lockfile): MissingOptional[] {
	const missing = new Map<string, MissingOptional>();
	for (const [location, entry] of Object.entries(lock.packages)) {
		for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
			if (resolveFrom(lock.packages, location, name)) continue;
			if (!EXACT_VERSION.test(spec)) {
				throw new Error(
					`${location} names the optional dependency ${name}@${spec}, a range: run \`npm install\` where the registry serves ${name} so npm can pick the version`,
				);
			}
			// Hoisted to the root, as npm would, unless another version is planned there.
			const rootKey = `node_modules/${name}`;
			const planned = missing.get(rootKey);
			if (planned?.version === spec) continue;
			const target = planned ? `${location === "" ? "" : `${location}/`}node_modules/${name}` : rootKey;
			missing.set(target, { location: target, name, version: spec, requiredBy: location });
		}
	}
	return [...missing.values()].sort((a, b) => a.location.localeCompare(b.location, "en"));
}

/** The lockfile with an entry for every missing optional dependency, keys sorted as npm sorts them. */
export function fillMissingOptional(lock: Lockfile): { lock: Lockfile; added: MissingOptional[] } {
	const added = findMissingOptional(lock);
	if (added.length === 0) return { lock, added };
	const packages: Record<string, LockEntry> = { ...lock.packages };
	for (const item of added) {
		const parent = lock.packages[item.requiredBy];
		// Reachable only through development dependencies: npm marks such entries `dev` too.
		packages[item.location] = parent?.dev
			? { version: item.version, dev: true, optional: true }
			: { version: item.version, optional: true };
	}
	const sorted = Object.fromEntries(
		Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b, "en"))),
	);
	return { lock: { ...lock, packages: sorted }, added };
}

/** The file's own indentation (npm keeps whatever the file uses), so a rewrite changes only the new entries. */
function indentOf(text: string): string {
	return /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
}

function main(): void {
	const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
	const text = readFileSync(LOCKFILE_PATH, "utf8");
	const lock = JSON.parse(text) as Lockfile;
	if (values.check) {
		const missing = findMissingOptional(lock);
		for (const m of missing)
			console.error(`missing: ${m.location}@${m.version} (optional dependency of ${m.requiredBy})`);
		if (missing.length > 0) {
			console.error(`package-lock.json lacks ${missing.length} optional entries: run \`npm run lockfile:fill\``);
			process.exit(1);
		}
		console.log("package-lock.json names no optional dependency it lacks");
		return;
	}
	const { lock: filled, added } = fillMissingOptional(lock);
	if (added.length === 0) {
		console.log("package-lock.json already has an entry for every optional dependency");
		return;
	}
	writeFileSync(LOCKFILE_PATH, `${JSON.stringify(filled, null, indentOf(text))}\n`);
	for (const m of added) console.log(`added ${m.location}@${m.version} (optional dependency of ${m.requiredBy})`);
	console.log(`${added.length} entries added; they carry no integrity hash (see docs/testing.md)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
