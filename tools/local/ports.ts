// Free loopback ports for the engines and servers the harness starts. Probing a port and binding it later races with parallel test files, so each
// port handed out is *reserved*: this process holds a sentinel socket beside it
// until it exits, and the kernel arbitrates and releases it when its owner dies.
// Slots lie below the ephemeral range (32768+ on Linux). A program outside this
// repo can still take a port; callers then retry on another slot.

import net from "node:net";

/** Engines get bases P on this grid; each uses P (guard), P+1 (api-peer) and P+10 (metrics). */
const ENGINE_PORT_FIRST = 20_000;
const ENGINE_PORT_LAST = 32_000;
/** Bases are multiples of this, so two engines' ranges (P … P+10) never overlap. */
const ENGINE_PORT_STRIDE = 20;
/** The engine slot's sentinel: a port of the slot the engine never binds. */
const ENGINE_SENTINEL_OFFSET = 2;

/** Other servers (app servers, PostgreSQL, NATS, nginx) get a port Q on this grid, with Q+1 as its sentinel. */
const SERVER_PORT_FIRST = 12_000;
const SERVER_PORT_LAST = 20_000;
const SERVER_PORT_STRIDE = 2;

/** Random slots tried before giving up (the grids hold 600 and 4,000 slots). */
const SLOT_ATTEMPTS = 400;

/** Sentinel sockets this process holds, by the port they reserve. */
const reservations = new Map<number, net.Server>();

function listen(port: number): Promise<net.Server | null> {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.once("error", () => resolve(null));
		server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
			// A reservation must never keep the process alive.
			server.unref();
			resolve(server);
		});
	});
}

async function isFree(port: number): Promise<boolean> {
	const probe = await listen(port);
	if (!probe) return false;
	await new Promise((resolve) => probe.close(resolve));
	return true;
}

/** Reserves the slot `port` if its `sentinel` can be bound and every port in `span` is free now. */
async function reserve(port: number, sentinel: number, span: number[]): Promise<boolean> {
	if (reservations.has(port)) return false;
	const held = await listen(sentinel);
	if (!held) return false;
	for (const p of span) {
		if (!(await isFree(p))) {
			await new Promise((resolve) => held.close(resolve));
			return false;
		}
	}
	reservations.set(port, held);
	return true;
}

async function pick(first: number, last: number, stride: number, claim: (port: number) => Promise<boolean>) {
	const slots = Math.floor((last - first) / stride);
	for (let attempt = 0; attempt < SLOT_ATTEMPTS; attempt++) {
		const port = first + stride * Math.floor(Math.random() * slots);
		if (await claim(port)) return port;
	}
	throw new Error(`no free port found between ${first} and ${last}`);
}

/**
 * A base port P with P, P+1 and P+10 free (guard, api-peer, metrics), reserved
 * until this process exits; on the grid no engine's api-peer port is another's guard port.
 */
export function freeEnginePort(): Promise<number> {
	return pick(ENGINE_PORT_FIRST, ENGINE_PORT_LAST, ENGINE_PORT_STRIDE, (p) =>
		reserve(p, p + ENGINE_SENTINEL_OFFSET, [p, p + 1, p + 10]),
	);
}

/** A free loopback port for any other server, reserved for this process like `freeEnginePort`. */
export function freePort(): Promise<number> {
	return pick(SERVER_PORT_FIRST, SERVER_PORT_LAST, SERVER_PORT_STRIDE, (p) => reserve(p, p + 1, [p]));
}
