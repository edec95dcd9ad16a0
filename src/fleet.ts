// `GET /api/fleet`: the actors that exist and what they are doing, for the
// web app's Fleet panel. Read-only.
//
// The list comes from the engine's management API (`src/engine-api.ts`), with
// this server's engine credentials. Only what the panel
// shows leaves the server: id, name, key, status and creation time. No token,
// no namespace id, no engine error detail reaches the browser.
//
// It lists every actor in the namespace, keys included (room names, batch
// ids), so it is on by default only outside production; `FLEET_VIEW=on`
// enables it in production, `FLEET_VIEW=off` disables it everywhere. A
// disabled view answers `{ enabled: false }` (200, not an error): the page
// shows a note instead of a failed request in the console on every visit.

import { type EngineAccess, type EngineActor, EngineApiError, listFleet } from "./engine-api.ts";

/** The panel refreshes every few seconds; an engine slower than this gets a 503, not a hung request. */
export const FLEET_TIMEOUT_MS = 5_000;
/** Actors listed per actor name; the panel says when there are more. */
export const FLEET_ACTORS_PER_NAME = 50;

export type FleetActorStatus = "starting" | "awake" | "sleeping" | "crashed" | "destroyed";

export interface FleetActor {
	id: string;
	/** The key as the engine stores it (rivetkit joins key parts with `/`). */
	key: string | null;
	status: FleetActorStatus;
	/** Epoch milliseconds. */
	createdAt: number;
}

export interface FleetGroup {
	/** The registry name, e.g. `chatRoom`. */
	name: string;
	/** `options.name` of the actor, e.g. "Chat room". */
	displayName: string;
	/** Newest first. */
	actors: FleetActor[];
	/** More actors exist than are listed. */
	more: boolean;
}

export interface FleetView {
	enabled: boolean;
	groups: FleetGroup[];
	/** Epoch milliseconds. */
	fetchedAt: number;
}

export class FleetUnavailableError extends Error {}

export function disabledFleet(): FleetView {
	return { enabled: false, groups: [], fetchedAt: Date.now() };
}

/**
 * What an actor is doing, from the engine's lifecycle timestamps. Checked on
 * engine 2.3.19: a sleeping actor has `sleep_ts` set and `connectable_ts`
 * cleared; waking sets `connectable_ts` again and clears `sleep_ts`. `error`
 * is the engine's record of a failed start.
 */
export function actorStatus(actor: EngineActor): FleetActorStatus {
	if (actor.destroy_ts != null) return "destroyed";
	if (actor.error != null) return "crashed";
	if (actor.sleep_ts != null) return "sleeping";
	if (actor.connectable_ts != null) return "awake";
	return "starting";
}

export async function loadFleet(engine: EngineAccess): Promise<FleetView> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new FleetUnavailableError("the engine did not answer in time")), FLEET_TIMEOUT_MS);
	});
	try {
		const entries = await Promise.race([listFleet(engine, FLEET_ACTORS_PER_NAME), timeout]);
		return {
			enabled: true,
			fetchedAt: Date.now(),
			groups: entries.map((entry) => ({
				name: entry.name,
				displayName: typeof entry.metadata.name === "string" ? entry.metadata.name : entry.name,
				actors: entry.actors
					.map((a): FleetActor => ({ id: a.actor_id, key: a.key, status: actorStatus(a), createdAt: a.create_ts }))
					.sort((a, b) => b.createdAt - a.createdAt),
				more: entry.cursor !== null,
			})),
		};
	} catch (error) {
		// These errors name the engine's URL and request; the browser only
		// needs to know the list is unavailable.
		if (error instanceof EngineApiError) {
			console.error("actor-fleet: /api/fleet could not list actors:", error.message);
			throw new FleetUnavailableError("the engine's actor list is unavailable");
		}
		throw error;
	} finally {
		clearTimeout(timer);
	}
}
