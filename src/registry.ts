// The registry: every actor this app serves. No side effects here, so the
// web app, scripts and tests can import it (the web app as a type only).

import { setup } from "rivetkit";
import { counter } from "./actors/counter.ts";

export const registry = setup({
	use: { counter },
});

export type Registry = typeof registry;
