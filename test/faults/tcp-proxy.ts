// A TCP proxy between the browser and the engine that a test can break.
//
// - `pass`: bytes flow both ways.
// - `reset`: every open connection is reset (RST), and new ones are reset as
//   soon as they arrive, until `pass` again. What a dropped network, a
//   restarted load balancer or a killed Wi-Fi link looks like to the page.
// - `stall`: nothing flows and nothing closes: the proxy stops reading from
//   both sides, so bytes wait in the kernel's buffers, and new connections
//   are accepted but not forwarded. Back to `pass`, everything resumes where
//   it stopped, as TCP does after a router hiccup. Chromium's offline
//   emulation would leave open WebSockets alone, so this is done at the TCP
//   level.
//
// A stall whose flows never come back (blackholed for good) was tried too:
// Chromium then opened no new WebSocket to the proxy for over a minute after
// the path was back (the disposed sockets wait for a closing handshake that
// never comes), while plain fetches got through; see docs/web.md.

import net from "node:net";

export type ProxyMode = "pass" | "reset" | "stall";

interface Pair {
	client: net.Socket;
	upstream: net.Socket | null;
}

export interface TcpProxy {
	readonly url: string;
	readonly port: number;
	setMode(mode: ProxyMode): void;
	/** Connections accepted since the start. */
	readonly accepted: number;
	close(): Promise<void>;
}

export async function startTcpProxy(options: {
	port: number;
	target: { host: string; port: number };
}): Promise<TcpProxy> {
	let mode: ProxyMode = "pass";
	let accepted = 0;
	const pairs = new Set<Pair>();

	const connectUpstream = (pair: Pair) => {
		const { client } = pair;
		const upstream = net.connect(options.target.port, options.target.host);
		pair.upstream = upstream;
		upstream.on("error", () => client.destroy());
		upstream.on("close", () => client.destroy());
		client.pipe(upstream);
		upstream.pipe(client);
		client.resume();
	};

	const server = net.createServer({ pauseOnConnect: true }, (client) => {
		accepted += 1;
		const pair: Pair = { client, upstream: null };
		pairs.add(pair);
		client.on("error", () => {});
		client.on("close", () => {
			pair.upstream?.destroy();
			pairs.delete(pair);
		});
		if (mode === "reset") client.resetAndDestroy();
		else if (mode === "pass") connectUpstream(pair);
		// "stall": left paused and unconnected until `pass`.
	});

	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, "127.0.0.1", () => resolve());
	});

	return {
		url: `http://127.0.0.1:${options.port}`,
		port: options.port,
		get accepted() {
			return accepted;
		},
		setMode(next) {
			mode = next;
			for (const pair of pairs) {
				if (next === "reset") {
					pair.client.resetAndDestroy();
					pair.upstream?.destroy();
				} else if (next === "stall") {
					pair.client.pause();
					pair.upstream?.pause();
				} else if (pair.upstream === null) {
					connectUpstream(pair);
				} else {
					pair.client.resume();
					pair.upstream.resume();
				}
			}
		},
		async close() {
			for (const pair of pairs) {
				pair.client.destroy();
				pair.upstream?.destroy();
			}
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
