// package-lock.json must name every optional dependency, or `npm ci` refuses it
// (docs/testing.md); this fails until `npm run lockfile:fill` adds them.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { fillMissingOptional, findMissingOptional, LOCKFILE_PATH, type Lockfile } from "../../tools/lockfile.ts";

function projectLockfile(): Lockfile {
	return JSON.parse(readFileSync(LOCKFILE_PATH, "utf8")) as Lockfile;
}

describe("package-lock.json", () => {
	test("has an entry for every optional dependency a locked package names", () => {
		expect(findMissingOptional(projectLockfile())).toEqual([]);
	});

	test("only optional packages go without an integrity hash", () => {
		const withoutHash = Object.entries(projectLockfile().packages).filter(
			([location, entry]) => location !== "" && !entry.link && entry.integrity === undefined,
		);
		for (const [location, entry] of withoutHash) {
			expect({ location, optional: entry.optional === true || entry.devOptional === true }).toEqual({
				location,
				optional: true,
			});
		}
	});

	test("filling it changes nothing", () => {
		const lock = projectLockfile();
		const { lock: filled, added } = fillMissingOptional(lock);
		expect(added).toEqual([]);
		expect(filled).toEqual(lock);
	});
});

describe("tools/lockfile.ts", () => {
	const napi = "node_modules/@rivetkit/rivetkit-napi";

	test("finds a dropped platform package and restores it as a versioned optional entry", () => {
		const lock = projectLockfile();
		const names = Object.keys(lock.packages[napi]?.optionalDependencies ?? {});
		expect(names.length).toBeGreaterThan(1);
		const dropped = names[0] ?? "";
		const version = lock.packages[napi]?.optionalDependencies?.[dropped];
		const { [`node_modules/${dropped}`]: _removed, ...rest } = lock.packages;
		const broken: Lockfile = { ...lock, packages: rest };

		expect(findMissingOptional(broken)).toEqual([
			{ location: `node_modules/${dropped}`, name: dropped, version, requiredBy: napi },
		]);
		const { lock: repaired } = fillMissingOptional(broken);
		expect(repaired.packages[`node_modules/${dropped}`]).toEqual({ version, optional: true });
		expect(findMissingOptional(repaired)).toEqual([]);
		// npm keeps the keys sorted; the repaired entry goes back where npm would put it.
		const keys = Object.keys(repaired.packages);
		expect(keys.indexOf(`node_modules/${dropped}`)).toBe(Object.keys(lock.packages).indexOf(`node_modules/${dropped}`));
	});

	test("marks an entry reachable only through development dependencies as dev", () => {
		const lock: Lockfile = {
			lockfileVersion: 3,
			packages: {
				"": { devDependencies: { tool: "1.0.0" } },
				"node_modules/tool": { version: "1.0.0", dev: true, optionalDependencies: { "tool-win32-x64": "1.0.0" } },
			},
		};
		expect(fillMissingOptional(lock).lock.packages["node_modules/tool-win32-x64"]).toEqual({
			version: "1.0.0",
			dev: true,
			optional: true,
		});
	});

	test("nests an entry when another version of the package sits at the root", () => {
		const lock: Lockfile = {
			lockfileVersion: 3,
			packages: {
				"": {},
				"node_modules/a": { version: "1.0.0", optionalDependencies: { "bin-x": "1.0.0" } },
				"node_modules/b": { version: "1.0.0", optionalDependencies: { "bin-x": "2.0.0" } },
			},
		};
		expect(findMissingOptional(lock).map((m) => `${m.location}@${m.version}`)).toEqual([
			"node_modules/b/node_modules/bin-x@2.0.0",
			"node_modules/bin-x@1.0.0",
		]);
	});

	test("refuses a version range it cannot pin without the registry", () => {
		const lock: Lockfile = {
			lockfileVersion: 3,
			packages: { "": {}, "node_modules/a": { version: "1.0.0", optionalDependencies: { "bin-x": "^1.0.0" } } },
		};
		expect(() => findMissingOptional(lock)).toThrow(/bin-x@\^1\.0\.0, a range/);
	});
});
