// Free loopback ports for the engines, app servers and other daemons that the
// launcher, the tests and the bench start.
//
// Probing a port and binding it later is a race: another test file running in
// parallel can probe the same port in between. So every port handed out here
// is first *reserved*: this process binds a sentinel port next to it and keeps
// that socket open until it exits. Another process of this repo that wants the
// same slot cannot bind the sentinel and moves on; the kernel decides who wins
// and releases the sentinel when its owner dies, so nothing stale is left.
// Slots lie below the OS's ephemeral range (32768+ on Linux), where outgoing
// connections and `port: 0` listeners would otherwise take them. A program
// outside this repo can still take a port in the window between probe and
// bind; callers retry on another slot when a daemon reports "address in use"
// (`startEngineOnFreePort`, `startServerForPool`).

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

/**
 * Reserves the slot `port` (sentinel `sentinel`) if the sentinel can be bound
 * and every port in `span` is free right now.
 */
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
 * A base port P with P, P+1 and P+10 free, reserved for this process: the
 * engine's guard, api-peer and metrics ports (see `tools/local/engine.ts`). On a
 * shared grid one engine's api-peer port can never be another's guard port,
 * which would otherwise answer `/health` in its place. The reservation lasts
 * until this process exits, so a crash test can restart an engine on the same
 * base.
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
