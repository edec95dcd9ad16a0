// Which client a request comes from, for per-address limits (sign-in).
//
// By default, the TCP peer's address: nobody can choose it. Behind a reverse
// proxy every request has the proxy's address, so the proxy must name the
// client in a header, and the server must be told which one
// (`CLIENT_ADDRESS_HEADER`, src/auth/settings.ts). Only that header is read,
// and only when it is set: a client that talks to the server directly can
// put anything in any header.

import { isIPv4, isIPv6 } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** What requests whose address cannot be told (no socket, e.g. `app.request` in a test) share as one address. */
export const UNKNOWN_CLIENT = "unknown";

/**
 * The key a request's client is limited under: its IPv4 address, or the /64
 * network of its IPv6 address (one host commonly holds a whole /64, so
 * counting single IPv6 addresses would give it 2^64 allowances).
 */
export function clientAddress(c: Context, trustedHeader: string | undefined): string {
	const fromProxy = trustedHeader === undefined ? undefined : headerAddress(c.req.header(trustedHeader), trustedHeader);
	return limitKey(fromProxy ?? peerAddress(c) ?? UNKNOWN_CLIENT);
}

/**
 * The client address in the proxy's header. `X-Forwarded-For` is a list each
 * proxy appends to; its last entry is the one the trusted proxy added, the
 * earlier ones came from the client. A missing header means the request did
 * not come through the proxy: the peer address is used instead.
 */
function headerAddress(value: string | undefined, header: string): string | undefined {
	if (value === undefined) return undefined;
	const entries = value.split(",").map((entry) => entry.trim());
	const address = header === "x-forwarded-for" ? entries.at(-1) : entries[0];
	return address === undefined || address === "" ? undefined : address;
}

function peerAddress(c: Context): string | undefined {
	try {
		return getConnInfo(c).remote.address;
	} catch {
		// Not served by @hono/node-server (an in-process `app.request`).
		return undefined;
	}
}

/** Normalizes an address into the key it is limited under (see `clientAddress`). */
export function limitKey(address: string): string {
	const bare = address
		.trim()
		.toLowerCase()
		.replace(/^\[(.*)\]$/, "$1");
	// An IPv4 client of a dual-stack socket shows up as ::ffff:a.b.c.d.
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
	if (mapped?.[1] !== undefined) return mapped[1];
	if (isIPv4(bare)) return bare;
	if (isIPv6(bare)) return `${expandIPv6(bare).slice(0, 4).join(":")}::/64`;
	return bare;
}

/** The eight 16-bit groups of a valid IPv6 address, `::` expanded. */
function expandIPv6(address: string): string[] {
	const [head = "", tail] = address.split("::");
	const groups = (part: string) => (part === "" ? [] : part.split(":"));
	const left = groups(head);
	const right = tail === undefined ? [] : groups(tail);
	const zeros = Array.from({ length: 8 - left.length - right.length }, () => "0");
	return [...left, ...zeros, ...right].map((group) => group.replace(/^0+(?=.)/, ""));
}
