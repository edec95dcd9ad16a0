// A TCP proxy between the browser and the engine that a test can break.
//
// - `pass`: bytes flow both ways.
// - `reset`: every open connection is reset (RST), and new ones are reset as
//   soon as they arrive, until `pass` again. What a dropped network, a
//   restarted load balancer or a killed Wi-Fi link looks like to the page.
// - `stall`: nothing flows and nothing closes. Open connections are
//   blackholed for good: even after `pass`, they never carry another byte
//   (a dropped NAT entry, a proxy that lost its state). New connections made
//   during the stall hang unanswered. Chromium's offline emulation would leave
//   open WebSockets alone, so this is done at the TCP level.

import net from "node:net";

export type ProxyMode = "pass" | "reset" | "stall";

interface Pair {
	client: net.Socket;
	upstream: net.Socket | null;
	/** Blackholed connections never forward again. */
	dead: boolean;
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

	const blackhole = (pair: Pair) => {
		pair.dead = true;
		pair.client.pause();
		pair.upstream?.pause();
	};

	const server = net.createServer((client) => {
		accepted += 1;
		const pair: Pair = { client, upstream: null, dead: false };
		pairs.add(pair);
		client.on("error", () => {});
		client.on("close", () => {
			pair.upstream?.destroy();
			pairs.delete(pair);
		});
		if (mode === "reset") {
			client.resetAndDestroy();
			return;
		}
		if (mode === "stall") {
			blackhole(pair);
			return;
		}
		const upstream = net.connect(options.target.port, options.target.host);
		pair.upstream = upstream;
		upstream.on("error", () => client.destroy());
		upstream.on("close", () => {
			if (!pair.dead) client.destroy();
		});
		client.on("data", (chunk) => {
			if (!pair.dead) upstream.write(chunk);
		});
		upstream.on("data", (chunk) => {
			if (!pair.dead) client.write(chunk);
		});
		client.on("end", () => {
			if (!pair.dead) upstream.end();
		});
		upstream.on("end", () => {
			if (!pair.dead) client.end();
		});
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
			if (next === "reset") {
				for (const pair of pairs) {
					pair.client.resetAndDestroy();
					pair.upstream?.destroy();
				}
			} else if (next === "stall") {
				for (const pair of pairs) blackhole(pair);
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
