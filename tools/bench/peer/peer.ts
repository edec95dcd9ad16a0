// Starts and stops the Durable Object peer (server.ts) for the bench, and
// the small WebSocket client its rows use.
//
// The peer runs in a child process with its storage in a fresh temporary
// folder. `stop()` always ends it and removes the folder; while it runs, a
// SIGINT or SIGTERM to the bench stops it first and then lets the signal do
// what it would have done. If the bench dies some other way (SIGKILL), the
// child sees its stdin close and disposes Miniflare by itself.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { track } from "../../local/lifecycle.ts";
import type { Pids } from "../lib/measure.ts";

/** How long Miniflare gets to start workerd and listen. */
const PEER_BOOT_TIMEOUT_MS = 30_000;
/** How long the peer gets to dispose Miniflare before SIGKILL. */
const PEER_STOP_TIMEOUT_MS = 10_000;

const SERVER_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), "server.ts");

export interface RunningPeer {
	/** `http://127.0.0.1:<port>`, the Worker's routes (see worker.ts). */
	url: string;
	/** `engine` is workerd, which runs the Durable Objects; `node` is the Miniflare host process. */
	pids: Pids;
	stop(): Promise<void>;
}

export async function startPeer(): Promise<RunningPeer> {
	const storageDir = mkdtempSync(path.join(tmpdir(), "actor-fleet-peer-"));
	const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", SERVER_ENTRY], {
		stdio: ["pipe", "pipe", "inherit"],
		env: { ...process.env, PEER_STORAGE_DIR: storageDir },
	});
	const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
	let stopping: Promise<void> | undefined;
	const stop = (): Promise<void> => {
		stopping ??= (async () => {
			untrack();
			if (child.exitCode === null && child.signalCode === null) {
				child.kill("SIGTERM");
				const timer = setTimeout(() => child.kill("SIGKILL"), PEER_STOP_TIMEOUT_MS);
				await exited;
				clearTimeout(timer);
			}
			rmSync(storageDir, { recursive: true, force: true });
		})();
		return stopping;
	};
	// Tracked from spawn, so the bench's signal handling (tools/local/lifecycle.ts) stops it too.
	const untrack = child.pid === undefined ? () => {} : track({ name: "the Durable Object peer", pid: child.pid, stop });

	try {
		const line = await new Promise<string>((resolve, reject) => {
			let out = "";
			const timer = setTimeout(
				() => reject(new Error(`the Durable Object peer did not start within ${PEER_BOOT_TIMEOUT_MS} ms`)),
				PEER_BOOT_TIMEOUT_MS,
			);
			child.stdout.on("data", (chunk: Buffer) => {
				out += chunk.toString("utf8");
				const newline = out.indexOf("\n");
				if (newline >= 0) {
					clearTimeout(timer);
					resolve(out.slice(0, newline));
				}
			});
			void exited.then(() => {
				clearTimeout(timer);
				reject(new Error(`the Durable Object peer exited during start-up (code ${child.exitCode})`));
			});
		});
		const ready = JSON.parse(line) as { url: string; workerdPid: number };
		const nodePid = child.pid;
		if (nodePid === undefined) throw new Error("could not spawn the Durable Object peer");
		return { url: ready.url, pids: { engine: ready.workerdPid, node: nodePid }, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}

/** How long a peer WebSocket may take to open. */
const SOCKET_OPEN_TIMEOUT_MS = 10_000;

/**
 * One WebSocket to the peer: `call(body)` sends `{ id, ...body }` and resolves
 * with the reply carrying that id, so several calls may be in flight at once,
 * as the rivetkit client pipelines actions over `.connect()`. Messages without
 * an id (the room's broadcasts) go to `onEvent`.
 */
export class PeerSocket {
	readonly #ws: WebSocket;
	readonly #pending = new Map<number, { resolve(output: unknown): void; reject(error: Error): void }>();
	#nextId = 0;
	onEvent: ((event: { event: string; message: unknown }) => void) | null = null;

	private constructor(ws: WebSocket) {
		this.#ws = ws;
		ws.addEventListener("message", (e) => {
			const body = JSON.parse(String(e.data)) as {
				id?: number | null;
				output?: unknown;
				error?: { code: string };
				event?: string;
				message?: unknown;
			};
			if (typeof body.id !== "number") {
				if (body.event !== undefined) this.onEvent?.({ event: body.event, message: body.message });
				return;
			}
			const waiter = this.#pending.get(body.id);
			this.#pending.delete(body.id);
			if (body.error) waiter?.reject(new Error(`peer refused: ${body.error.code}`));
			else waiter?.resolve(body.output);
		});
		ws.addEventListener("close", () => {
			for (const waiter of this.#pending.values()) waiter.reject(new Error("peer socket closed"));
			this.#pending.clear();
		});
	}

	/** Opens `url` (ws://…) and resolves once the Durable Object has accepted it. */
	static open(url: string): Promise<PeerSocket> {
		const ws = new WebSocket(url);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				ws.close();
				reject(new Error(`peer WebSocket ${url} did not open within ${SOCKET_OPEN_TIMEOUT_MS} ms`));
			}, SOCKET_OPEN_TIMEOUT_MS);
			ws.addEventListener("open", () => {
				clearTimeout(timer);
				resolve(new PeerSocket(ws));
			});
			ws.addEventListener("error", () => {
				clearTimeout(timer);
				reject(new Error(`peer WebSocket ${url} failed to open`));
			});
		});
	}

	call(body: Record<string, unknown>): Promise<unknown> {
		const id = this.#nextId++;
		return new Promise((resolve, reject) => {
			this.#pending.set(id, { resolve, reject });
			this.#ws.send(JSON.stringify({ id, ...body }));
		});
	}

	close(): void {
		this.#ws.close();
	}
}
