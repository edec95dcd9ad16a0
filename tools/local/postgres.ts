// A private PostgreSQL server for the local engine cluster: Debian's own
// binaries, its own data dir and loopback port, never the system's service.
//
// Flow: `initdb` once per data dir (a `rivet` superuser with a generated
// password, password auth over TCP, no Unix socket), then `postgres` in the
// foreground, then `CREATE DATABASE rivet` on first start. PostgreSQL refuses
// to run as root, so as root every server program runs as the `postgres`
// user that Debian's package creates.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { acceptsConnections, type RunningDaemon, startDaemon } from "./daemon.ts";
import { track } from "./lifecycle.ts";

const execFileAsync = promisify(execFile);

/**
 * `initdb` and `psql`, tracked while they run: `initdb` takes seconds, and a
 * signal in that time must stop it too (see lifecycle.ts).
 */
async function run(
	command: string,
	args: string[],
	options: Parameters<typeof execFileAsync>[2],
): Promise<{ stdout: string; stderr: string }> {
	const pending = execFileAsync(command, args, { ...options, encoding: "utf8" });
	const child = pending.child;
	const untrack =
		child.pid === undefined
			? () => {}
			: track({
					name: path.basename(command),
					pid: child.pid,
					stop: async () => {
						child.kill("SIGTERM");
						await pending.catch(() => {});
					},
				});
	try {
		const { stdout, stderr } = await pending;
		return { stdout: String(stdout), stderr: String(stderr) };
	} finally {
		untrack();
	}
}

/** initdb plus the first start take 2-4 s on this class of machine; leave room for a busy one. */
const POSTGRES_BOOT_TIMEOUT_MS = 60_000;
const POSTGRES_USER = "rivet";
const POSTGRES_DATABASE = "rivet";

export interface PostgresOptions {
	/** Folder for this server: `data/` (the cluster), logs, the password file. */
	dir: string;
	port: number;
	/** Folder with `initdb`, `postgres` and `psql` (see `findClusterBinaries`). */
	bin: string;
}

export interface RunningPostgres extends RunningDaemon {
	/** `postgresql://rivet:<password>@127.0.0.1:<port>/rivet`: what the engine nodes use. */
	url: string;
	port: number;
	/** Runs one SQL statement with psql and returns its rows, `|`-separated. */
	query(sql: string): Promise<string[]>;
}

interface RunAs {
	uid: number;
	gid: number;
}

/** As root, the `postgres` system user; otherwise the current user. */
function serverUser(): RunAs | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const line = readFileSync("/etc/passwd", "utf8")
		.split("\n")
		.find((l) => l.startsWith("postgres:"));
	const [, , uid, gid] = line?.split(":") ?? [];
	if (uid === undefined || gid === undefined) {
		throw new Error("PostgreSQL will not run as root and there is no `postgres` user; install Debian's postgresql");
	}
	return { uid: Number(uid), gid: Number(gid) };
}

function passwordFor(dir: string, owner: RunAs | undefined): string {
	const file = path.join(dir, "password");
	if (!existsSync(file)) {
		writeFileSync(file, `${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
		if (owner) chownSync(file, owner.uid, owner.gid);
	}
	return readFileSync(file, "utf8").trim();
}

async function initCluster(bin: string, dataDir: string, passwordFile: string, owner: RunAs | undefined) {
	mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	if (owner) chownSync(dataDir, owner.uid, owner.gid);
	await run(
		path.join(bin, "initdb"),
		[
			"--pgdata",
			dataDir,
			"--username",
			POSTGRES_USER,
			"--pwfile",
			passwordFile,
			"--auth-host",
			"scram-sha-256",
			"--auth-local",
			"reject",
			"--encoding",
			"UTF8",
			"--no-instructions",
		],
		// The server user may not be allowed into the caller's working directory.
		{ ...(owner ?? {}), cwd: path.dirname(dataDir), env: { ...process.env, LC_ALL: "C.UTF-8" } },
	);
}

export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
	const { dir, port, bin } = options;
	const owner = serverUser();
	mkdirSync(dir, { recursive: true });
	// The server user must reach its data dir inside a folder root created.
	chmodSync(dir, 0o755);
	const password = passwordFor(dir, owner);
	const dataDir = path.join(dir, "data");
	const fresh = !existsSync(path.join(dataDir, "PG_VERSION"));
	if (fresh) await initCluster(bin, dataDir, path.join(dir, "password"), owner);

	const psqlEnv = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "2" };
	const query = async (sql: string, database = POSTGRES_DATABASE): Promise<string[]> => {
		const { stdout } = await run(
			path.join(bin, "psql"),
			[
				"-h",
				"127.0.0.1",
				"-p",
				String(port),
				"-U",
				POSTGRES_USER,
				"-d",
				database,
				"-At",
				"-v",
				"ON_ERROR_STOP=1",
				"-c",
				sql,
			],
			{ env: psqlEnv },
		);
		return stdout.split("\n").filter((l) => l.length > 0);
	};

	const daemon = await startDaemon({
		name: "PostgreSQL",
		command: path.join(bin, "postgres"),
		args: [
			"-D",
			dataDir,
			"-p",
			String(port),
			"-c",
			"listen_addresses=127.0.0.1",
			// TCP only: no socket file to clash with the system's PostgreSQL.
			"-c",
			"unix_socket_directories=",
		],
		logFile: path.join(dir, "postgres.log"),
		pidFile: path.join(dir, "postgres.launcher.pid"),
		...(owner ?? {}),
		// SIGINT is PostgreSQL's "fast shutdown": roll back, checkpoint, exit.
		stopSignal: "SIGINT",
		bootTimeoutMs: POSTGRES_BOOT_TIMEOUT_MS,
		ready: async () => {
			if (!(await acceptsConnections("127.0.0.1", port))) return false;
			try {
				await query("SELECT 1", "postgres");
				return true;
			} catch {
				return false;
			}
		},
	});
	try {
		const exists = await query(`SELECT 1 FROM pg_database WHERE datname = '${POSTGRES_DATABASE}'`, "postgres");
		if (exists.length === 0) await query(`CREATE DATABASE ${POSTGRES_DATABASE}`, "postgres");
	} catch (error) {
		await daemon.stop();
		throw error;
	}
	const url = `postgresql://${POSTGRES_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${POSTGRES_DATABASE}`;
	return { ...daemon, url, port, query: (sql) => query(sql) };
}
