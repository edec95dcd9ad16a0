// Finds the Debian-packaged servers the local cluster runs (PostgreSQL,
// nats-server, nginx) and, when one is missing, says exactly what to install
// instead of failing later with a stack trace.

import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/** Debian puts each PostgreSQL major version's programs here. */
const POSTGRES_LIB_DIR = "/usr/lib/postgresql";
/** Debian installs server programs in sbin, which is not on every user's PATH. */
const EXTRA_BIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

export interface ClusterBinaries {
	/** Folder holding `initdb`, `postgres`, `pg_isready` and `psql`. */
	postgresBin: string;
	natsServer: string;
	nginx: string;
}

export class MissingPrerequisiteError extends Error {
	readonly missing: string[];
	readonly packages: string[];

	constructor(missing: string[], packages: string[]) {
		super(
			`missing: ${missing.join(", ")}.\nInstall them with (Debian/Ubuntu):\n  sudo apt-get install -y ${packages.join(" ")}\n` +
				"or point POSTGRES_BIN / NATS_SERVER / NGINX at your own builds.",
		);
		this.missing = missing;
		this.packages = packages;
	}
}

type Env = Record<string, string | undefined>;

function onPath(program: string, env: Env): string | undefined {
	const dirs = [...(env.PATH ?? "").split(path.delimiter), ...EXTRA_BIN_DIRS];
	for (const dir of dirs) {
		const candidate = path.join(dir, program);
		if (dir && existsSync(candidate)) return candidate;
	}
	return undefined;
}

/** The newest `/usr/lib/postgresql/<major>/bin` that has `initdb`, else `initdb` on PATH. */
function findPostgresBin(env: Env): string | undefined {
	const override = env.POSTGRES_BIN;
	if (override) return existsSync(path.join(override, "initdb")) ? override : undefined;
	if (existsSync(POSTGRES_LIB_DIR)) {
		const majors = readdirSync(POSTGRES_LIB_DIR)
			.filter((v) => /^\d+$/.test(v))
			.sort((a, b) => Number(b) - Number(a));
		for (const major of majors) {
			const bin = path.join(POSTGRES_LIB_DIR, major, "bin");
			if (existsSync(path.join(bin, "initdb"))) return bin;
		}
	}
	const initdb = onPath("initdb", env);
	return initdb ? path.dirname(initdb) : undefined;
}

/** The override when set (a wrong one counts as missing, not silently replaced), else PATH. */
function findProgram(override: string | undefined, program: string, env: Env): string | undefined {
	if (override) return existsSync(override) ? override : undefined;
	return onPath(program, env);
}

/** Finds the programs, or throws `MissingPrerequisiteError` naming every missing package. */
export function findClusterBinaries(env: Env = process.env): ClusterBinaries {
	const postgresBin = findPostgresBin(env);
	const natsServer = findProgram(env.NATS_SERVER, "nats-server", env);
	const nginx = findProgram(env.NGINX, "nginx", env);
	const missing: string[] = [];
	const packages: string[] = [];
	if (!postgresBin) {
		missing.push("PostgreSQL (initdb, postgres)");
		packages.push("postgresql");
	}
	if (!natsServer) {
		missing.push("nats-server");
		packages.push("nats-server");
	}
	if (!nginx) {
		missing.push("nginx");
		packages.push("nginx");
	}
	if (!postgresBin || !natsServer || !nginx) throw new MissingPrerequisiteError(missing, packages);
	return { postgresBin, natsServer, nginx };
}
