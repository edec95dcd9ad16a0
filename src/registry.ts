// The registry: every actor this app serves. Importing it has no side
// effects (test/registry.test.ts proves it): it reads no environment, writes
// none and never exits, so the web app (as a type only), scripts and tests
// can import it. Actors read their settings on first use.

import { setup } from "rivetkit";
import { chatRoom } from "./actors/chat-room/chat-room.ts";
import { chatRoomSettings } from "./actors/chat-room/settings.ts";
import { counter } from "./actors/counter/counter.ts";
import { coordinator } from "./actors/jobs/coordinator.ts";
import { jobsSettings } from "./actors/jobs/settings.ts";
import { worker } from "./actors/jobs/worker.ts";
import { quota } from "./actors/quota/quota.ts";

export const registry = setup({
	use: { counter, chatRoom, worker, coordinator, quota },
});

export type Registry = typeof registry;

/**
 * Parses every actor family's settings from `process.env` now rather than on
 * first use; throws `SettingsError` (src/settings.ts) on a bad value.
 * `src/server.ts` calls it at boot.
 */
export function checkActorSettings(): void {
	chatRoomSettings();
	jobsSettings();
}
