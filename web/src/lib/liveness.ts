// Is the way from this page to the engine still open?
//
// A WebSocket whose network path stalls silently (a dropped NAT entry, a
// proxy that stops forwarding, a laptop that changed networks) gives no
// error and no close: the page would show "live" forever while nothing
// arrives. The browser cannot send WebSocket pings, and an action used as a
// ping would wake the actor or keep it awake (actors sleep after 30 s without
// work), which costs every idle actor an instance for as long as a tab is
// open. So the check never touches an actor: every `LIVENESS_INTERVAL_MS`,
// while the tab is visible and a connection is open, it asks the engine's
// `/health` over the same path the WebSockets take (the client endpoint from
// `/api/rivet/metadata`). `no-cors`: only "did an answer arrive" matters.
//
// A probe that fails or takes longer than `LIVENESS_TIMEOUT_MS` marks the
// path down; the first one that succeeds afterwards tells every connection to
// reopen, because a socket that lived through a dead path may be dead itself
// without knowing it. A stall shorter than one interval can go unnoticed; an
// action that then hangs is caught by its own timeout (lib/actor.ts).

import { RIVET_ENDPOINT } from "./rivet.ts";

/** How often the path to the engine is checked, while a tab is visible. */
export const LIVENESS_INTERVAL_MS = 5_000;
/** A probe slower than this counts as failed: the path is down or stalled. */
export const LIVENESS_TIMEOUT_MS = 3_000;

export type PathState = "ok" | "down";

type Listener = (state: PathState) => void;

let probeUrl: Promise<string> | undefined;

/** Where the engine's `/health` is, as the browser reaches it (read once from the app's metadata). */
function engineHealthUrl(): Promise<string> {
	probeUrl ??= fetch(`${RIVET_ENDPOINT.replace(/\/+$/, "")}/metadata`, { headers: { accept: "application/json" } })
		.then((res) => res.json() as Promise<{ clientEndpoint?: string }>)
		.then((body) => new URL("/health", body.clientEndpoint ?? RIVET_ENDPOINT).toString())
		.catch((error: unknown) => {
			probeUrl = undefined; // Ask again next time.
			throw error;
		});
	return probeUrl;
}

class PathMonitor {
	#state: PathState = "ok";
	#listeners = new Set<Listener>();
	#timer: ReturnType<typeof setInterval> | undefined;
	#probing = false;

	get state(): PathState {
		return this.#state;
	}

	/** Called by each open connection; the checks run while at least one listens. */
	watch(listener: Listener): () => void {
		this.#listeners.add(listener);
		if (this.#timer === undefined) {
			this.#timer = setInterval(() => void this.#probe(), LIVENESS_INTERVAL_MS);
		}
		return () => {
			this.#listeners.delete(listener);
			if (this.#listeners.size === 0) {
				clearInterval(this.#timer);
				this.#timer = undefined;
			}
		};
	}

	async #probe(): Promise<void> {
		if (this.#probing || document.visibilityState !== "visible") return;
		this.#probing = true;
		let next: PathState;
		try {
			await fetch(await engineHealthUrl(), {
				mode: "no-cors",
				cache: "no-store",
				signal: AbortSignal.timeout(LIVENESS_TIMEOUT_MS),
			});
			next = "ok";
		} catch {
			next = "down";
		} finally {
			this.#probing = false;
		}
		if (next === this.#state) return;
		this.#state = next;
		for (const listener of [...this.#listeners]) listener(next);
	}
}

export const enginePath = new PathMonitor();
