// Actor keys and ids as the REST API spells them.
//
// rivetkit keys are arrays of strings; the engine stores one string. rivetkit
// joins the parts with `/`, escaping `\` and `/` inside a part, writing an
// empty part as `\0` and the empty key as `/` (`serializeActorKey` in
// rivetkit's `actor/keys.ts`, which the package does not export). The same
// encoding here means `["room", "a/b"]` finds the actor a rivetkit client
// created with that key.

import { DebugInputError } from "./errors.ts";

export type ActorKeyInput = string | readonly string[];

export function serializeActorKey(key: ActorKeyInput): string {
	const parts = typeof key === "string" ? [key] : key;
	if (parts.length === 0) return "/";
	return parts.map((part) => (part === "" ? "\\0" : part.replace(/\\/g, "\\\\").replace(/\//g, "\\/"))).join("/");
}

/**
 * Engine actor ids are lowercase base-36 strings (30 characters in 2.3.19).
 * The engine answers a malformed id with a misleading error (a 500, or "name
 * is required"), so ids are checked before any request.
 */
const ACTOR_ID_PATTERN = /^[0-9a-z]{16,64}$/;

export function assertActorId(id: string): string {
	if (!ACTOR_ID_PATTERN.test(id)) {
		throw new DebugInputError(`not an actor id: ${JSON.stringify(id)} (expected lowercase letters and digits)`);
	}
	return id;
}
