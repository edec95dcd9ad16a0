// A multi-node Rivet Engine deployment on one machine: what `npm run cluster`
// runs and what the cluster tests break on purpose.
//
//   clients ─▶ engine LB (nginx) ─▶ engine node A │ engine node B ─▶ PostgreSQL + NATS
//                                        │
//                                        ▼ POST /api/rivet/start
//                    app LB (nginx) ─▶ app server A │ app server B
//
// Every piece runs from a committed file in `deploy/cluster/` with loopback
// addresses filled in; every port is free and chosen at start; every process
// is a child we hold by PID. Both engine nodes advertise the engine LB as their
// `public_url` and the app servers use it as `RIVET_ENDPOINT`: a serverless
// app rejects starts from a node whose URL differs from its endpoint, and with
// one shared URL either node may start actors in either app (docs/scaling-out.md).
//
// Start order follows the dependencies (database, pub/sub, engines, load
// balancers, apps, runner config); stop runs it backwards so the apps drain
// their actors into a live engine first.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type RunningAppServer, startAppServer } from "./app-server.ts";
import { type RunningEngine, startEngine } from "./engine.ts";
import { type RunningNats, startNats } from "./nats.ts";
import { type RunningNginx, startNginx } from "./nginx.ts";
import { freeEnginePort, freePort } from "./ports.ts";
import { type RunningPostgres, startPostgres } from "./postgres.ts";
import { findClusterBinaries } from "./prerequisites.ts";
import { configureServerlessPool } from "./runner-config.ts";
import { productionSecrets } from "./stack.ts";
import { renderDeployFile } from "./templates.ts";

/** The NATS user the engine nodes connect as. */
const NATS_USER = "rivet-engine";
/** Where the cluster's engine admin token is written (mode 0600), for the banner's curl lines and operators. */
export const ADMIN_TOKEN_FILE = "engine-admin-token";
/** The runner version every app server of this deployment reports. */
const CLUSTER_RUNNER_VERSION = "1";
export const NODE_NAMES = ["a", "b"] as const;
export type NodeName = (typeof NODE_NAMES)[number];

export interface ClusterOptions {
	/** Data folder; defaults to a fresh temporary folder that `stop()` removes. */
	dir?: string;
	pool?: string;
	/** Progress lines ("starting engine node a ..."); silent by default. */
	log?: (line: string) => void;
	/** The app servers' entry file; defaults to `src/server.ts` (the cluster suite passes its fixture server). */
	entry?: string;
}

/** One restartable process of the cluster (an engine node or an app server). */
export interface ClusterMember {
	name: string;
	/** Its own address, bypassing the load balancer. */
	url: string;
	pid: number | undefined;
	running: boolean;
	start(): Promise<void>;
	/** Clean stop (engine: SIGTERM; app server: SIGTERM, actors drain). */
	stop(): Promise<void>;
	/** `kill -9`. */
	kill(): Promise<void>;
}

export interface Cluster {
	dir: string;
	pool: string;
	/** The engine load balancer: clients, app servers and the runner config use it. */
	engineUrl: string;
	/** The app load balancer, which the runner config points at (plus `/api/rivet`). */
	appUrl: string;
	/** Bearer token of the engine's management API (also in `<dir>/engine-admin-token`). */
	adminToken: string;
	postgres: RunningPostgres;
	nats: RunningNats;
	nginx: RunningNginx;
	engines: Record<NodeName, ClusterMember>;
	apps: Record<NodeName, ClusterMember>;
	/**
	 * The engine node holding the database's leader lease (it applies every
	 * write; the other node forwards over NATS), or undefined while nobody
	 * holds an unexpired one.
	 */
	leaseHolder(): Promise<NodeName | undefined>;
	/** PIDs of every process this cluster has started and not yet seen exit. */
	pids(): number[];
	stop(): Promise<void>;
}

interface Ports {
	postgres: number;
	nats: number;
	engines: Record<NodeName, number>;
	engineLb: number;
	appLb: number;
	apps: Record<NodeName, number>;
}

/**
 * PostgreSQL records the lease holder's random node id (`udb_lease`); each
 * node logs the id it acquired the lease with ("acquired udb postgres leader
 * lease ... node_id=..."). Matching the two names the node.
 */
async function findLeaseHolder(postgres: RunningPostgres, dir: string): Promise<NodeName | undefined> {
	const [nodeId] = await postgres.query("SELECT leader_addr FROM udb_lease WHERE expires_at > now()");
	if (!nodeId) return undefined;
	return NODE_NAMES.find((name) => {
		const log = path.join(dir, `engine-${name}`, "engine.log");
		return existsSync(log) && readFileSync(log, "utf8").includes(`node_id=${nodeId}`);
	});
}

async function choosePorts(): Promise<Ports> {
	const taken = new Set<number>();
	const unique = async (pick: () => Promise<number>): Promise<number> => {
		for (;;) {
			const port = await pick();
			const span = [port, port + 1, port + 10];
			if (span.every((p) => !taken.has(p))) {
				for (const p of span) taken.add(p);
				return port;
			}
		}
	};
	return {
		postgres: await unique(freePort),
		nats: await unique(freePort),
		engines: { a: await unique(freeEnginePort), b: await unique(freeEnginePort) },
		engineLb: await unique(freePort),
		appLb: await unique(freePort),
		apps: { a: await unique(freePort), b: await unique(freePort) },
	};
}

export interface EngineNodeValues {
	postgresUrl: string;
	/** `host:port` of NATS, and the user the engine nodes connect as. */
	natsAddress: string;
	natsUser: string;
	natsPassword: string;
	/** Guards the engine's management API (`/actors`, `/runner-configs`, …); the gateway stays open. */
	adminToken: string;
	/** The engine load balancer's URL, shared by every node. */
	publicUrl: string;
	/** This node's own api-peer URL. */
	peerUrl: string;
	listenHost: string;
}

/** Renders `deploy/cluster/engine.json` for one node; returns `target`. */
export function writeEngineNodeConfig(target: string, values: EngineNodeValues): string {
	return renderDeployFile("engine.json", target, {
		POSTGRES_URL: values.postgresUrl,
		NATS_ADDRESS: values.natsAddress,
		NATS_USER: values.natsUser,
		NATS_PASSWORD: values.natsPassword,
		ENGINE_ADMIN_TOKEN: values.adminToken,
		ENGINE_PUBLIC_URL: values.publicUrl,
		NODE_PEER_URL: values.peerUrl,
		NODE_LISTEN_HOST: values.listenHost,
	});
}

function engineMember(
	name: NodeName,
	port: number,
	dir: string,
	values: Omit<EngineNodeValues, "peerUrl" | "listenHost">,
): ClusterMember {
	const dataDir = path.join(dir, `engine-${name}`);
	mkdirSync(dataDir, { recursive: true });
	const configFile = writeEngineNodeConfig(path.join(dataDir, "engine.json"), {
		...values,
		peerUrl: `http://127.0.0.1:${port + 1}`,
		listenHost: "127.0.0.1",
	});
	let engine: RunningEngine | undefined;
	const member: ClusterMember = {
		name: `engine-${name}`,
		url: `http://127.0.0.1:${port}`,
		get pid() {
			return member.running ? engine?.pid : undefined;
		},
		get running() {
			return engine !== undefined && engine.process.exitCode === null && engine.process.signalCode === null;
		},
		async start() {
			if (member.running) return;
			// Ports come from the launcher (guard P, api-peer P+1, metrics P+10);
			// everything else from the committed engine.json.
			engine = await startEngine({ port, dataDir, configFile, localTuning: false });
		},
		async stop() {
			await engine?.stop();
		},
		async kill() {
			await engine?.kill();
		},
	};
	return member;
}

function appMember(
	name: NodeName,
	port: number,
	dir: string,
	values: {
		engineUrl: string;
		pool: string;
		adminToken: string;
		secrets: ReturnType<typeof productionSecrets>;
		entry?: string;
	},
): ClusterMember {
	let server: RunningAppServer | undefined;
	let exited = true;
	const member: ClusterMember = {
		name: `app-${name}`,
		url: `http://127.0.0.1:${port}`,
		get pid() {
			return member.running ? server?.pid : undefined;
		},
		get running() {
			return !exited;
		},
		async start() {
			if (member.running) return;
			server = await startAppServer({
				port,
				...(values.entry ? { entry: values.entry } : {}),
				logFile: path.join(dir, `app-${name}.log`),
				env: {
					// The same production build a single-machine deploy runs.
					NODE_ENV: "production",
					RIVET_ENDPOINT: values.engineUrl,
					RIVET_PUBLIC_ENDPOINT: values.engineUrl,
					RIVET_POOL: values.pool,
					RIVET_RUNNER_VERSION: CLUSTER_RUNNER_VERSION,
					// The app's own engine calls (the fleet view) go to the management API.
					RIVET_TOKEN: values.adminToken,
					...values.secrets,
				},
			});
			exited = false;
			void server.exited.then(() => {
				exited = true;
			});
		},
		async stop() {
			await server?.stop();
		},
		async kill() {
			await server?.kill();
		},
	};
	return member;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
	const binaries = findClusterBinaries();
	const log = options.log ?? (() => {});
	const ownsDir = options.dir === undefined;
	const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "actor-fleet-cluster-"));
	mkdirSync(dir, { recursive: true });
	// PostgreSQL runs as its own user and must be able to reach its folder.
	chmodSync(dir, 0o755);
	const pool = options.pool ?? "default";
	const ports = await choosePorts();
	const engineUrl = `http://127.0.0.1:${ports.engineLb}`;
	const appUrl = `http://127.0.0.1:${ports.appLb}`;

	// Everything started so far, newest first: what a failed start unwinds.
	const started: Array<() => Promise<void>> = [];
	const unwind = async () => {
		for (const stop of started) await stop().catch(() => {});
		if (ownsDir) rmSync(dir, { recursive: true, force: true });
	};
	try {
		log(`starting PostgreSQL on 127.0.0.1:${ports.postgres}`);
		const postgres = await startPostgres({
			dir: path.join(dir, "postgres"),
			port: ports.postgres,
			bin: binaries.postgresBin,
		});
		started.unshift(() => postgres.stop());

		log(`starting nats-server on 127.0.0.1:${ports.nats}`);
		// Credentials like a production deployment's, new on every start: NATS
		// admits only the engine nodes, and the engine's management API needs
		// the admin token (the gateway that clients use does not).
		const natsPassword = randomBytes(24).toString("base64url");
		const adminToken = randomBytes(32).toString("base64url");
		writeFileSync(path.join(dir, ADMIN_TOKEN_FILE), `${adminToken}\n`, { mode: 0o600 });
		const nats = await startNats({
			dir: path.join(dir, "nats"),
			port: ports.nats,
			command: binaries.natsServer,
			user: NATS_USER,
			password: natsPassword,
		});
		started.unshift(() => nats.stop());

		const values = {
			postgresUrl: postgres.url,
			natsAddress: nats.address,
			natsUser: NATS_USER,
			natsPassword,
			adminToken,
			publicUrl: engineUrl,
		};
		const engines = {
			a: engineMember("a", ports.engines.a, dir, values),
			b: engineMember("b", ports.engines.b, dir, values),
		};
		for (const node of NODE_NAMES) {
			log(`starting engine node ${node} on ${engines[node].url}`);
			await engines[node].start();
			started.unshift(() => engines[node].stop());
		}

		log(`starting nginx: engine LB ${engineUrl}, app LB ${appUrl}`);
		const nginx = await startNginx({
			dir: path.join(dir, "nginx"),
			command: binaries.nginx,
			engineLbPort: ports.engineLb,
			engines: [`127.0.0.1:${ports.engines.a}`, `127.0.0.1:${ports.engines.b}`],
			appLbPort: ports.appLb,
			apps: [`127.0.0.1:${ports.apps.a}`, `127.0.0.1:${ports.apps.b}`],
		});
		started.unshift(() => nginx.stop());

		// One set for both apps: either may verify a token the other issued,
		// and the runner config sends one start secret to both.
		const secrets = productionSecrets();
		const apps = {
			a: appMember("a", ports.apps.a, dir, { engineUrl, pool, adminToken, secrets, entry: options.entry }),
			b: appMember("b", ports.apps.b, dir, { engineUrl, pool, adminToken, secrets, entry: options.entry }),
		};
		for (const node of NODE_NAMES) {
			log(`starting app server ${node} on ${apps[node].url}`);
			await apps[node].start();
			started.unshift(() => apps[node].stop());
		}

		log(`runner config: pool "${pool}" → ${appUrl}/api/rivet`);
		await configureServerlessPool({
			engineUrl,
			url: `${appUrl}/api/rivet`,
			pool,
			startSecret: secrets.RIVET_START_SECRET,
			adminToken,
			token: adminToken,
		});

		const members = [...Object.values(engines), ...Object.values(apps)];
		const pids = () => {
			const daemons = [postgres, nats, nginx].filter(
				(d) => d.process.exitCode === null && d.process.signalCode === null,
			);
			return [...daemons.map((d) => d.pid), ...members.flatMap((m) => (m.pid === undefined ? [] : [m.pid]))];
		};
		// If this process dies without stopping the cluster (an uncaught error, a
		// crashed test worker), take the cluster with it rather than leave seven
		// servers running. SIGKILL because nothing asynchronous runs on exit.
		const killOnExit = () => {
			for (const pid of pids()) {
				try {
					process.kill(pid, "SIGKILL");
				} catch {
					// Already gone.
				}
			}
		};
		process.once("exit", killOnExit);
		return {
			dir,
			pool,
			engineUrl,
			appUrl,
			adminToken,
			postgres,
			nats,
			nginx,
			engines,
			apps,
			leaseHolder: () => findLeaseHolder(postgres, dir),
			pids,
			async stop() {
				process.off("exit", killOnExit);
				// Apps first (their actors drain into the engines), then the engines,
				// then what the engines stand on.
				await Promise.all(Object.values(apps).map((a) => a.stop()));
				await Promise.all(Object.values(engines).map((e) => e.stop()));
				await nginx.stop();
				await nats.stop();
				await postgres.stop();
				if (ownsDir) rmSync(dir, { recursive: true, force: true });
			},
		};
	} catch (error) {
		await unwind();
		throw error;
	}
}
