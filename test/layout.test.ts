// The product (`src/`, `web/`) never imports the harness (`tools/`), so a fork
// can replace `tools/` and the image ships none of it. The import graph is read
// from the source (static, type-only, side-effect and dynamic imports); a
// relative import must name an existing file, so a misparse fails loudly.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const PRODUCT_DIRS = ["src", "web"];
const ENTRIES = ["src/server.ts", "web/src/main.tsx"];
const PARSED_EXTENSIONS = new Set([".ts", ".tsx", ".js", ".mjs"]);

/** `import`/`export` statements at the start of a line, and `import("...")` anywhere. */
const STATIC_IMPORT = /^[ \t]*(?:import|export)\s(?:[^;'"]*?\sfrom\s*)?["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The specifiers a file imports, in order. */
function importSpecifiers(source: string): string[] {
	const found: string[] = [];
	for (const match of source.matchAll(STATIC_IMPORT)) if (match[1]) found.push(match[1]);
	for (const match of source.matchAll(DYNAMIC_IMPORT)) if (match[1]) found.push(match[1]);
	return found;
}

interface Edge {
	from: string;
	specifier: string;
	/** Project-relative path of the imported file, or `null` for a package or `node:` built-in. */
	to: string | null;
}

function edgesOf(file: string): Edge[] {
	if (!PARSED_EXTENSIONS.has(path.extname(file))) return [];
	const source = readFileSync(path.join(ROOT, file), "utf8");
	return importSpecifiers(source).map((specifier) => {
		if (!specifier.startsWith(".") && !specifier.startsWith("/")) return { from: file, specifier, to: null };
		const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier));
		if (!existsSync(path.join(ROOT, target)) || !statSync(path.join(ROOT, target)).isFile()) {
			throw new Error(`${file}: cannot resolve ${JSON.stringify(specifier)} (imports here name the file)`);
		}
		return { from: file, specifier, to: target };
	});
}

/** Every project file reachable from `entries`, and every edge walked. */
function walk(entries: string[]): { files: Set<string>; edges: Edge[] } {
	const files = new Set<string>();
	const edges: Edge[] = [];
	const queue = [...entries];
	for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
		if (files.has(file)) continue;
		files.add(file);
		for (const edge of edgesOf(file)) {
			edges.push(edge);
			if (edge.to !== null && !files.has(edge.to)) queue.push(edge.to);
		}
	}
	return { files, edges };
}

function isProduct(file: string): boolean {
	return PRODUCT_DIRS.some((dir) => file.startsWith(`${dir}/`));
}

function sourceFilesUnder(dir: string): string[] {
	const out: string[] = [];
	for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
		const relative = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			if (entry.name !== "node_modules" && entry.name !== "dist") out.push(...sourceFilesUnder(relative));
		} else if (PARSED_EXTENSIONS.has(path.extname(entry.name))) {
			out.push(relative);
		}
	}
	return out;
}

describe("the import reader", () => {
	test("sees every form of import the code uses", () => {
		const source = [
			'import { a } from "./a.ts";',
			'import type { B } from "./b.ts";',
			"import {\n\ttype C,\n\td,\n} from './c.ts';",
			'export type { E } from "./e.ts";',
			'export * from "./f.ts";',
			'import "./g.css";',
			'let h: typeof import("./h.ts").h;',
			'const s = "import nothing from here";',
			'// import { commented } from "./not-me.ts";',
		].join("\n");
		expect(importSpecifiers(source)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./e.ts", "./f.ts", "./g.css", "./h.ts"]);
	});
});

describe("the product's import graph", () => {
	const { files, edges } = walk(ENTRIES);

	test("reaches the whole product, through type-only imports too", () => {
		// The web app reaches the registry and the fleet view's types only
		// through `import type`.
		for (const expected of ["src/app.ts", "src/serve.ts", "src/registry.ts", "src/fleet.ts"]) {
			expect(files).toContain(expected);
		}
		expect(files).toContain("web/src/panels/FleetPanel.tsx");
		// example-actors:start (the README's removal block deletes these lines)
		// The worker reaches its workarounds through a plain import.
		expect(files).toContain("src/workarounds/crash-recovery.ts");
		expect(files).toContain("web/src/panels/JobsPanel.tsx");
		// example-actors:end
	});

	test("from src/server.ts and web/src/main.tsx stays inside src/ and web/", () => {
		const outside = edges.filter((e) => e.to !== null && !isProduct(e.to)).map((e) => `${e.from} → ${e.to}`);
		expect(outside).toEqual([]);
	});

	test("no file under src/ or web/ imports the harness or anything else outside the product", () => {
		const all = PRODUCT_DIRS.flatMap(sourceFilesUnder);
		expect(all.length).toBeGreaterThan(files.size / 2);
		const outside = all
			.flatMap(edgesOf)
			.filter((e) => e.to !== null && !isProduct(e.to))
			.map((e) => `${e.from} → ${e.to}`);
		expect(outside).toEqual([]);
	});
});

describe("the rivetkit workarounds", () => {
	/** Hook names: the identifiers in the first column of src/workarounds/README.md's hook tables. */
	function hooks(): Set<string> {
		const readme = readFileSync(path.join(ROOT, "src/workarounds/README.md"), "utf8");
		const names = readme
			.split("\n")
			.filter((line) => line.startsWith("| `"))
			.flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`(\w+)/g)].map((m) => m[1] ?? ""));
		return new Set(names);
	}

	/** The names `source` imports from a file under src/workarounds/, with the file. */
	function workaroundImports(file: string): Array<{ name: string; from: string }> {
		const source = readFileSync(path.join(ROOT, file), "utf8");
		const found: Array<{ name: string; from: string }> = [];
		for (const match of source.matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+["']([^"']+)["']/gm)) {
			const [, names = "", specifier = ""] = match;
			const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier));
			if (!target.startsWith("src/workarounds/")) continue;
			for (const name of names.split(",")) {
				const bare = name.replace(/^\s*type\s+/, "").trim();
				if (bare !== "") found.push({ name: bare, from: target });
			}
		}
		return found;
	}

	test("are used outside src/workarounds/ only through the hooks its README lists", () => {
		const listed = hooks();
		expect(listed).toContain("applyRuntimeWorkarounds");
		const product = PRODUCT_DIRS.flatMap(sourceFilesUnder).filter((f) => !f.startsWith("src/workarounds/"));
		const unlisted = product
			.flatMap((file) => workaroundImports(file).map((i) => ({ ...i, file })))
			.filter((i) => !listed.has(i.name))
			.map((i) => `${i.file} imports ${i.name} from ${i.from}`);
		expect(unlisted).toEqual([]);
	});
});

describe("docs/layout.md", () => {
	const DOC = readFileSync(path.join(ROOT, "docs/layout.md"), "utf8");
	/** Where a line's name column ends: the descriptions start at this column or later. */
	const NAME_COLUMN_MAX = 20;

	/** Every path the tree names (folders without their trailing slash), and whether each is a folder. */
	function namedPaths(): Map<string, { folder: boolean; built: boolean }> {
		const block = DOC.split("```\n")[1] ?? "";
		const named = new Map<string, { folder: boolean; built: boolean }>();
		const stack: string[] = [];
		for (const line of block.split("\n")) {
			// Marker lines (the removal blocks') and description lines name nothing.
			if (line.startsWith("#") || line.trim() === "") continue;
			const match = /^( *)(\S.*?)(?: {2,}(.*)|$)/.exec(line);
			const indent = match?.[1]?.length ?? 0;
			if (!match?.[2] || indent > NAME_COLUMN_MAX) continue;
			const level = indent / 2;
			stack.length = level;
			const names = match[2].split(",").map((n) => n.trim());
			for (const name of names) {
				if (name === "" || name.includes("*") || name.includes("<")) continue;
				const full = [...stack, name.replace(/\/$/, "")].join("/");
				named.set(full, { folder: name.endsWith("/"), built: (match[3] ?? "").includes("ignored by git") });
			}
			const first = names[0] ?? "";
			if (names.length === 1 && first.endsWith("/")) stack.push(first.replace(/\/$/, ""));
		}
		return named;
	}

	function trackedFiles(): string[] {
		return execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
			.split("\n")
			.filter((f) => f !== "" && existsSync(path.join(ROOT, f)));
	}

	test("names only paths that exist", () => {
		const named = namedPaths();
		// The reader sees the tree: top-level files, nested folders, files in nested folders.
		for (const known of ["src/server.ts", "src/workarounds", "web/src/lib", "test/tools/local"]) {
			expect(named.has(known), known).toBe(true);
		}
		const missing = [...namedPaths()]
			.filter(([p, { built }]) => !built && !existsSync(path.join(ROOT, p)))
			.map(([p]) => p);
		expect(missing).toEqual([]);
	});

	test("names every folder of source files, and every file at the top of src/ and tools/", () => {
		const named = namedPaths();
		const sources = trackedFiles().filter((f) => /^(src|tools|web\/src|test)\//.test(f) && /\.(ts|tsx|sh)$/.test(f));
		const unnamed = new Set<string>();
		for (const file of sources) {
			const folder = path.dirname(file);
			if (!named.get(folder)?.folder) unnamed.add(`${folder}/`);
			if ((folder === "src" || folder === "tools") && !named.has(file)) unnamed.add(file);
		}
		expect([...unnamed].sort()).toEqual([]);
	});

	test("src/ is what the server and the web app load, and the building blocks kept for new actors", () => {
		const { files } = walk(ENTRIES);
		// Loaded otherwise: drizzle-kit reads the configs (`npm run db:generate`);
		// the compute pool starts its thread by URL; `.d.ts` files are types only.
		const LOADED_OTHERWISE = /(drizzle\.config\.ts|compute-thread\.ts|\.d\.ts)$/;
		// What an actor you add uses, even while none does (after the README's
		// removal block): what every actor shares, the workarounds' hooks, the
		// web app's shared parts.
		const BUILDING_BLOCKS = /^(src\/actors\/[^/]+\.ts|src\/workarounds\/.*|web\/src\/(components|lib)\/.*)$/;
		const unreached = sourceFilesUnder("src")
			.concat(sourceFilesUnder("web/src"))
			.filter((f) => !files.has(f) && !LOADED_OTHERWISE.test(f) && !BUILDING_BLOCKS.test(f));
		expect(unreached).toEqual([]);
	});
});
