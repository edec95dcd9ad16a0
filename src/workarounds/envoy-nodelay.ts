// WORKAROUND for rivetkit 2.3.19 on the native runtime: the native core's
// envoy client opens its connection to the engine without `TCP_NODELAY`.
// An actor's reply leaves as two small WebSocket messages; Nagle holds the
// second until the engine acknowledges the first, and the engine's kernel
// delays that acknowledgement by up to 40 ms. So every one-at-a-time call
// waited about 48 ms (measured with strace and a loopback probe).
// lab:start (the README's lab removal block deletes these lines)
// The lab's docs/performance.md, "The 5 ms round-trip target", has the trace.
// lab:end
//
// The socket belongs to the add-on, but it is a descriptor of this process,
// and `TCP_NODELAY` is a property of the socket, whoever sets it. A
// `net.Socket` can take a descriptor it did not open without reading or
// writing it (`readable: false`, `writable: false`: libuv records the
// descriptor and does not poll it), and `setNoDelay(true)` is one
// `setsockopt`. Those sockets are kept for the life of the process and never
// closed, because closing one would close the add-on's descriptor. libuv
// refuses (`EEXIST`) a descriptor it already polls, so Node's own sockets
// (which set `TCP_NODELAY` themselves) are never taken.
//
// Which descriptors: this process's TCP sockets whose remote port is the
// engine's, found in /proc (Linux only; elsewhere this does nothing). The
// envoy reconnects after an engine restart, so the scan repeats; a socket is
// looked at once. Reading /proc's TCP table is not cheap: the kernel walks
// every socket of the network namespace, 8.5 ms a read on this machine with
// 31 sockets listed. Under load Node opens new sockets all the time, so a
// scan every `SCAN_INTERVAL_MS` read the table at nearly every tick: 1.0 s of
// the app server's CPU in an 18 s job benchmark (`--cpu-prof`, the largest
// single item). So the scan runs that often only while no engine connection
// it set is open (at boot, after an engine restart), and every
// `SETTLED_SCAN_INTERVAL_MS` otherwise.
//
// Measured: the lab's loopback probe's sequential `.connect()` p50 went from 48-60 ms
// to 6.9-7.7 ms, the gateway's HTTP action from 52-103 ms to 14-16 ms.
// What it exposed: when an actor answers a request without reading its body
// (rivetkit's inspector refusing a bad token, a 404 for a missing
// `onRequest`), rivetkit cancels the unread body, the cancel now travels
// ahead of the answer, and the engine sometimes dropped the client's
// connection instead of answering (29 of 300 such inspector calls; 3 of 8
// full test runs met one). drain-unread-body.ts removes most of that: the
// body is read instead of cancelled (0 of 2,700 such calls dropped one at a
// time, 1-17 of 800-2,000 eight at a time, against 69-405 of 800 without it
// and 234 of 2,000 with TCP_NODELAY off and no drain). With both,
// this is on by default; `FLEET_ENVOY_NODELAY=off` (src/runtime.ts) leaves
// the socket alone, to measure the difference.
//
// Delete when rivetkit's native envoy sets `TCP_NODELAY` itself (the
// probe then shows the same p50 without this file;
// test/runtime/envoy-nodelay-workaround.test.ts shows what it takes).

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import net from "node:net";

/** How often this process's sockets are scanned while none of the engine connections set here is open. */
const SCAN_INTERVAL_MS = 250;
/** How often they are scanned while one is (every run here showed one engine connection per process). */
const SETTLED_SCAN_INTERVAL_MS = 5_000;

/** Sockets given `TCP_NODELAY` here, by socket inode, with their descriptor; kept so they are never closed. */
const adopted = new Map<string, { fd: number; socket: net.Socket }>();
/** Socket inodes looked at and left alone (another port, or Node's own). */
const passed = new Set<string>();

/** Remote port of each TCP socket in /proc's tables, by inode. */
function remotePorts(): Map<string, number> {
	const ports = new Map<string, number>();
	for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
		let text: string;
		try {
			text = readFileSync(table, "utf8");
		} catch {
			continue;
		}
		for (const line of text.split("\n").slice(1)) {
			const fields = line.trim().split(/\s+/);
			const remote = fields[2];
			const inode = fields[9];
			if (remote === undefined || inode === undefined || inode === "0") continue;
			ports.set(inode, Number.parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16));
		}
	}
	return ports;
}

/** This process's socket descriptors not looked at yet, by inode. */
function newSockets(): Map<string, number> {
	const found = new Map<string, number>();
	let fds: string[];
	try {
		fds = readdirSync("/proc/self/fd");
	} catch {
		return found;
	}
	for (const fd of fds) {
		let link: string;
		try {
			link = readlinkSync(`/proc/self/fd/${fd}`);
		} catch {
			continue; // Closed since the listing.
		}
		const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
		if (inode !== undefined && !adopted.has(inode) && !passed.has(inode)) found.set(inode, Number(fd));
	}
	return found;
}

/**
 * Sets `TCP_NODELAY` on each socket of this process connected to
 * `enginePort` that Node does not own. Returns how many it set.
 */
export function setNoDelayOnEngineSockets(enginePort: number): number {
	const candidates = newSockets();
	if (candidates.size === 0) return 0;
	const ports = remotePorts();
	let set = 0;
	for (const [inode, fd] of candidates) {
		const port = ports.get(inode);
		// Not in the TCP tables yet (not connected yet): looked at again next scan.
		if (port === undefined) continue;
		if (port !== enginePort) {
			passed.add(inode);
			continue;
		}
		try {
			const socket = new net.Socket({ fd, readable: false, writable: false });
			socket.setNoDelay(true);
			socket.unref();
			adopted.set(inode, { fd, socket });
			set++;
		} catch {
			// EEXIST: Node's own socket (it sets TCP_NODELAY itself).
			passed.add(inode);
		}
	}
	// Inodes of closed sockets can be reused; forget the ones no longer listed.
	for (const inode of passed) if (!ports.has(inode)) passed.delete(inode);
	return set;
}

/**
 * Whether a socket given `TCP_NODELAY` here is still open: its descriptor
 * still names its inode. The add-on closes the descriptor when the engine
 * connection ends; the `net.Socket` kept for it is never used again.
 */
function engineConnectionOpen(): boolean {
	for (const [inode, { fd }] of adopted) {
		try {
			if (readlinkSync(`/proc/self/fd/${fd}`) === `socket:[${inode}]`) return true;
		} catch {
			// Closed since: not open.
		}
	}
	return false;
}

let timer: NodeJS.Timeout | undefined;

/** The hook (`applyRuntimeWorkarounds` on native): keeps every engine connection at `endpoint` free of the delayed-ACK stall. */
export function keepEnvoyNoDelay(endpoint: string): void {
	if (process.platform !== "linux" || timer !== undefined) return;
	const url = new URL(endpoint);
	const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
	const scan = () => {
		const set = setNoDelayOnEngineSockets(port);
		if (set > 0)
			console.log(
				`actor-fleet: TCP_NODELAY set on ${set} rivetkit engine connection(s) (src/workarounds/envoy-nodelay.ts)`,
			);
		timer = setTimeout(scan, engineConnectionOpen() ? SETTLED_SCAN_INTERVAL_MS : SCAN_INTERVAL_MS);
		timer.unref();
	};
	scan();
}
