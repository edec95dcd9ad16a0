// The registry: every actor this app serves. No side effects here, so the
// web app, scripts and tests can import it (the web app as a type only).

import { setup } from "rivetkit";
import { chatRoom } from "./actors/chat-room.ts";
import { coordinator } from "./actors/coordinator.ts";
import { counter } from "./actors/counter.ts";
import { worker } from "./actors/worker.ts";

export const registry = setup({
	use: { counter, chatRoom, worker, coordinator },
});

export type Registry = typeof registry;
