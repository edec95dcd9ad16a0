// `npm run demo`: submits a batch to a coordinator on a running `npm start`
// and shows it live: a progress bar fed by the coordinator's `progress`
// events, then the results once `finished` arrives.
//
// It signs in on the app like any client would (APP_URL, or the local app on
// :3000; the batch belongs to that new user), then talks to the engine
// (RIVET_ENDPOINT, or the local engine on :6420) with the access token as
// connection params. Options: `npm run demo -- --items 60 --workers 6`.

import { parseArgs } from "node:util";
import { createClient } from "rivetkit/client";
import type { BatchJobResult, BatchStatus, JobSpec } from "../src/actors/jobs/contract.ts";
import type { Registry } from "../src/registry.ts";
import { signIn } from "./client/auth.ts";

const DEFAULT_ENDPOINT = "http://127.0.0.1:6420";
const DEFAULT_APP_URL = "http://127.0.0.1:3000";
/** How often the demo asks for the status too, in case an event was missed (a reconnect). */
const STATUS_POLL_MS = 1_000;
/** Give up after this long without the batch finishing. */
const DEMO_TIMEOUT_MS = 5 * 60_000;
const BAR_WIDTH = 32;

const SAMPLE_TEXT =
	"Actors keep their state next to the code that changes it. A coordinator hands out work, " +
	"workers compute it in durable steps, and every result survives a crash because each step " +
	"is written down before the next one starts.";

const { values: flags } = parseArgs({
	options: {
		items: { type: "string", default: "40" },
		workers: { type: "string", default: "4" },
	},
});

function intFlag(name: string, value: string | undefined, min: number, max: number): number {
	const n = Number(value);
	if (!Number.isInteger(n) || n < min || n > max) {
		console.error(`demo: --${name} must be an integer from ${min} to ${max}`);
		process.exit(2);
	}
	return n;
}

/** A mix of all three job kinds, sized to take a few seconds on four workers. */
function demoItems(count: number): JobSpec[] {
	return Array.from({ length: count }, (_, i): JobSpec => {
		switch (i % 3) {
			case 0:
				return { kind: "primes", input: { limit: 100_000 + ((i * 37_000) % 400_000) } };
			case 1:
				return { kind: "sha256", input: { text: `demo item ${i}`, rounds: 50_000 + ((i * 11_000) % 150_000) } };
			default:
				return { kind: "wordstats", input: { text: SAMPLE_TEXT.repeat(1 + (i % 5)) } };
		}
	});
}

function renderBar(status: BatchStatus): string {
	const finished = status.done + status.failed;
	const filled = status.total === 0 ? 0 : Math.round((finished / status.total) * BAR_WIDTH);
	const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
	const workers = status.workers.map((w) => `${w.done + w.failed}/${w.assigned}`).join(" ");
	return `[${bar}] ${finished}/${status.total}  failed ${status.failed}  workers ${workers}`;
}

function describeResult(job: BatchJobResult): string {
	if (job.status !== "done" || job.result === undefined) return job.error ?? job.status;
	const r = job.result;
	if ("count" in r) return `${r.count} primes, largest ${r.largest}`;
	if ("digest" in r) return `digest ${r.digest.slice(0, 16)}…`;
	return `${r.words} words, ${r.uniqueWords} distinct, top "${r.top[0]?.word ?? ""}"`;
}

function printSummary(status: BatchStatus, results: BatchJobResult[]): void {
	const seconds = ((status.finishedAt ?? Date.now()) - (status.startedAt ?? Date.now())) / 1_000;
	console.log(`\nbatch ${status.batchId}: ${status.done} done, ${status.failed} failed in ${seconds.toFixed(1)} s`);
	for (const w of status.workers) console.log(`  ${w.workerId.padEnd(28)} ${w.done} done, ${w.failed} failed`);
	let primes = 0;
	let words = 0;
	for (const job of results) {
		if (job.result && "count" in job.result) primes += job.result.count;
		if (job.result && "words" in job.result) words += job.result.words;
	}
	console.log(`  primes counted across the batch: ${primes}; words counted: ${words}`);
	console.log("  first results:");
	for (const job of results.slice(0, 6)) console.log(`    ${job.jobId.padEnd(28)} ${describeResult(job)}`);
	const redispatched = results.filter((j) => j.dispatches > 1).length;
	if (redispatched > 0) console.log(`  ${redispatched} job(s) were re-sent by the sweep`);
}

async function main(): Promise<void> {
	const items = intFlag("items", flags.items, 1, 200);
	const workers = intFlag("workers", flags.workers, 1, 16);
	const endpoint = process.env.RIVET_ENDPOINT || DEFAULT_ENDPOINT;
	const appUrl = process.env.APP_URL || DEFAULT_APP_URL;
	// A 10-minute access token: longer than DEMO_TIMEOUT_MS, so one is enough.
	const { params } = await signIn(appUrl, "demo");
	const client = createClient<Registry>({ endpoint });
	const batchId = `demo-${Date.now().toString(36)}`;
	const tty = process.stdout.isTTY === true;
	console.log(`actor-fleet demo: ${items} jobs over ${workers} workers, batch ${batchId} (engine ${endpoint})`);

	const coordinator = client.coordinator.getOrCreate([batchId], { params });
	const conn = coordinator.connect();
	let latest: BatchStatus | undefined;
	let lastPrinted = -1;
	const show = (status: BatchStatus) => {
		if (latest && status.done + status.failed < latest.done + latest.failed) return;
		latest = status;
		if (tty) {
			process.stdout.write(`\r${renderBar(status)}`);
		} else {
			// Without a terminal, one line per tenth of the batch.
			const tenth = Math.floor(((status.done + status.failed) / Math.max(1, status.total)) * 10);
			if (tenth !== lastPrinted) {
				lastPrinted = tenth;
				console.log(renderBar(status));
			}
		}
	};

	let poll: NodeJS.Timeout | undefined;
	let timeout: NodeJS.Timeout | undefined;
	const finished = new Promise<BatchStatus>((resolve, reject) => {
		conn.on("progress", show);
		conn.on("finished", resolve);
		poll = setInterval(() => {
			coordinator.status().then((s) => {
				show(s);
				if (s.state === "done") resolve(s);
			}, reject);
		}, STATUS_POLL_MS);
		timeout = setTimeout(() => reject(new Error("the batch did not finish in time")), DEMO_TIMEOUT_MS);
	});

	try {
		show(await conn.submit({ items: demoItems(items), workers }));
		const final = await finished;
		show(final);
		printSummary(final, await coordinator.results());
	} finally {
		clearInterval(poll);
		clearTimeout(timeout);
		await conn.dispose();
		await client.dispose();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		const text = error instanceof Error ? error.message : String(error);
		console.error(`\ndemo failed: ${text}`);
		if (/fetch failed|ECONNREFUSED/.test(text)) {
			console.error("Is the app running? Start it with `npm start` (or set RIVET_ENDPOINT to your engine).");
		}
		process.exit(1);
	},
);
