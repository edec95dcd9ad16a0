// The Workflows peer: what a user would build on Cloudflare instead of the
// fleet's worker (a queue feeding a durable workflow), run locally by
// Miniflare. It runs inside workerd, not Node: `server.ts` strips its types
// and hands it to Miniflare with `worker.ts` and the fleet's own pure job
// code (`src/actors/jobs/compute.ts`), so both sides compute exactly the same
// chunks.
//
// - `JobWorkflow`: one instance plays one worker. It takes `jobs` jobs, one
//   at a time, each from a `job` event (`instance.sendEvent`, which workerd
//   keeps in the instance's storage until the workflow waits for it, as the
//   worker's queue keeps a message), and runs the worker's steps: lookup (a
//   jobId stored before is not run again), validate, one step per chunk,
//   store. Each step's result is recorded by the Workflows engine, so after a
//   crash the instance replays finished steps and re-runs the one in flight.
// - `JobResults`: a Durable Object with SQLite storage holding one row per
//   finished job (the worker's `jobs` table). `store` inserts the row (a
//   re-run keeps the first), answers it, and sends `jobFinished` to every
//   WebSocket open on it (the worker's event of that name).
//
// Routes (`worker.ts` sends `/jobs/…` and `/results/…` here):
// - `POST /jobs/<instance>/start` with `{ "jobs", "results" }` creates the
//   instance: it takes `jobs` jobs and stores them in `JobResults` `<results>`.
// - `POST /jobs/<instance>/send` with `{ "jobId", "kind", "input" }` hands the
//   instance one job.
// - `GET /jobs/<instance>/status`: `{ "status", "output" }` (Workflows' own
//   status: `running`, `waiting`, `complete`, …; the output is the job count).
// - `GET /results/<key>/ws` (WebSocket): `{ "event": "jobFinished", "message" }`
//   for every job stored there; any `{ "id" }` sent on it is answered
//   `{ "id", "output": { "stored" } }` (the rows it holds).

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { type ChunkTask, computeJob, planJob, runChunkTask } from "../../../src/actors/jobs/compute.ts";
import type { JobOutput, JobResult, JobSpec } from "../../../src/actors/jobs/jobs.ts";

/** The event type a job arrives as. */
const JOB_EVENT = "job";
/** How long an instance waits for its next job before the workflow fails. */
const NEXT_JOB_TIMEOUT = "1 hour";
/** Longest error text a failed job carries, as `MAX_ERROR_LENGTH` in the fleet. */
const MAX_ERROR_LENGTH = 500;
/** Most jobs one instance may be started for (each costs about 4 steps of the instance's step limit). */
export const MAX_JOBS_PER_INSTANCE = 1_000;
/** Job and instance ids: the fleet's id alphabet, within Workflows' instance id rules. */
const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;
const JOB_KINDS = new Set(["primes", "sha256", "wordstats"]);

/** A job as the instance receives it: the worker's queue message without `reply`. */
export type PeerJob = JobSpec & { jobId: string };

interface WorkflowParams {
	/** How many jobs this instance takes before it finishes. */
	jobs: number;
	/** The `JobResults` object its results go to. */
	results: string;
}

interface WorkerWebSocket {
	send(message: string): void;
}

interface SqlCursor {
	toArray(): Array<Record<string, unknown>>;
}

interface ResultsState {
	storage: { sql: { exec(query: string, ...bindings: unknown[]): SqlCursor } };
	acceptWebSocket(ws: WorkerWebSocket): void;
	getWebSockets(): WorkerWebSocket[];
}

interface Stub {
	fetch(request: Request): Promise<Response>;
}

interface Namespace {
	idFromName(name: string): unknown;
	get(id: unknown): Stub;
}

interface WorkflowInstance {
	sendEvent(event: { type: string; payload: unknown }): Promise<void>;
	status(): Promise<{ status: string; output?: unknown; error?: unknown }>;
}

interface WorkflowBinding {
	create(options: { id: string; params: WorkflowParams }): Promise<WorkflowInstance>;
	get(id: string): Promise<WorkflowInstance>;
}

export interface JobsEnv {
	JOBS: WorkflowBinding;
	RESULTS: Namespace;
}

declare const WebSocketPair: new () => { 0: WorkerWebSocket; 1: WorkerWebSocket };

type Outcome = { status: "done"; result: JobOutput } | { status: "failed"; error: string };
type CodeOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

class Refusal extends Error {
	readonly code: string;
	constructor(code: string, message: string) {
		super(message);
		this.code = code;
	}
}

/** Thrown out of `computeJob` when a chunk's own code threw: the job ends `failed`. */
class ChunkFailed extends Error {}

function json(body: unknown, status = 200): Response {
	return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function errorText(stepName: string, error: unknown): string {
	const text = `${stepName}: ${error instanceof Error ? error.message : String(error)}`.split("\n", 1)[0] ?? "";
	return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/**
 * Runs the job's own code and turns a throw into a value, as the worker's
 * `jobCode` does: the code is deterministic, so a retry would throw again,
 * and the Workflows engine must only retry failures to persist.
 */
async function jobCode<T>(stepName: string, run: () => T | Promise<T>): Promise<CodeOutcome<T>> {
	try {
		return { ok: true, value: await run() };
	} catch (error) {
		return { ok: false, error: errorText(stepName, error) };
	}
}

async function callResults<T>(results: Stub, route: "lookup" | "store", body: unknown): Promise<T> {
	const res = await results.fetch(
		new Request(`https://results/${route}`, { method: "POST", body: JSON.stringify(body) }),
	);
	if (!res.ok) throw new Error(`results ${route} answered ${res.status}`);
	return (await res.json()) as T;
}

/** One instance plays one worker: `jobs` jobs, one at a time, each as the worker's steps. */
export class JobWorkflow extends WorkflowEntrypoint<JobsEnv, WorkflowParams> {
	async run(event: Readonly<WorkflowEvent<WorkflowParams>>, step: WorkflowStep): Promise<number> {
		const results = this.env.RESULTS.get(this.env.RESULTS.idFromName(event.payload.results));
		for (let i = 0; i < event.payload.jobs; i++) {
			const { payload: job } = await step.waitForEvent<PeerJob>(`${i}/next-job`, {
				type: JOB_EVENT,
				timeout: NEXT_JOB_TIMEOUT,
			});
			// The jobId is the idempotency key, as on the worker.
			const known = await step.do(`${i}/lookup`, () =>
				callResults<JobResult | null>(results, "lookup", { jobId: job.jobId }),
			);
			if (known) continue;
			const plan = await step.do(`${i}/validate`, () => jobCode("validate", () => planJob(job).chunks));
			const outcome: Outcome = plan.ok
				? await computeInSteps(step, i, job, plan.value)
				: { status: "failed", error: plan.error };
			await step.do(`${i}/store`, () => callResults<JobResult>(results, "store", { jobId: job.jobId, outcome }));
		}
		return event.payload.jobs;
	}
}

/** The worker's `computeInSteps`: one recorded step per chunk. */
async function computeInSteps(step: WorkflowStep, i: number, job: PeerJob, chunks: number): Promise<Outcome> {
	try {
		const result = await computeJob(job, chunks, async <T extends ChunkTask>(index: number, task: T) => {
			const name = `chunk-${index}`;
			const chunk = await step.do(`${i}/${name}`, () => jobCode(name, () => runChunkTask(task)));
			if (!chunk.ok) throw new ChunkFailed(chunk.error);
			return chunk.value;
		});
		return { status: "done", result };
	} catch (error) {
		if (error instanceof ChunkFailed) return { status: "failed", error: error.message };
		throw error;
	}
}

/** One row per finished job; `jobFinished` to every socket open on it. */
export class JobResults {
	readonly #ctx: ResultsState;

	constructor(ctx: ResultsState) {
		this.#ctx = ctx;
		ctx.storage.sql.exec(
			"CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, status TEXT NOT NULL, result TEXT, error TEXT, finished_at INTEGER NOT NULL)",
		);
	}

	#lookup(jobId: string): JobResult | null {
		const [row] = this.#ctx.storage.sql.exec("SELECT * FROM jobs WHERE job_id = ?", jobId).toArray();
		return row ? toJobResult(row) : null;
	}

	async fetch(request: Request): Promise<Response> {
		const route = new URL(request.url).pathname.split("/").at(-1);
		if (route === "ws") {
			if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
				return json({ code: "upgrade_required", message: "expected a WebSocket upgrade" }, 426);
			}
			const pair = new WebSocketPair();
			this.#ctx.acceptWebSocket(pair[1]);
			return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
		}
		const body = (await request.json()) as { jobId: string; outcome?: Outcome };
		if (route === "lookup") return json(this.#lookup(body.jobId));
		if (route === "store" && body.outcome) {
			const { outcome } = body;
			// If the step re-runs after a crash, the row from its first run stands.
			this.#ctx.storage.sql.exec(
				"INSERT INTO jobs (job_id, status, result, error, finished_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
				body.jobId,
				outcome.status,
				outcome.status === "done" ? JSON.stringify(outcome.result) : null,
				outcome.status === "failed" ? outcome.error : null,
				Date.now(),
			);
			const stored = this.#lookup(body.jobId);
			const event = JSON.stringify({ event: "jobFinished", message: stored });
			for (const ws of this.#ctx.getWebSockets()) ws.send(event);
			return json(stored);
		}
		return json({ code: "not_found", message: "no such route" }, 404);
	}

	/**
	 * Any `{ "id" }` on a watcher's socket is answered `{ "id", "output": { "stored" } }`:
	 * a round trip on the same socket, after every `jobFinished` sent before it.
	 */
	webSocketMessage(ws: WorkerWebSocket, message: string | ArrayBuffer): void {
		let id: unknown = null;
		try {
			id = (JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message)) as { id?: unknown })
				.id;
		} catch {
			// Not JSON: answered with a null id.
		}
		const [row] = this.#ctx.storage.sql.exec("SELECT count(*) AS n FROM jobs").toArray();
		const output: ResultsCount = { stored: Number(row?.n ?? 0) };
		ws.send(JSON.stringify({ id: id ?? null, output }));
	}
}

/** The results object's answer to any message on its WebSocket: how many jobs it stores. */
export interface ResultsCount {
	stored: number;
}

function toJobResult(row: Record<string, unknown>): JobResult {
	const jobId = String(row.job_id);
	if (row.status === "done") return { jobId, status: "done", result: JSON.parse(String(row.result)) as JobOutput };
	return { jobId, status: "failed", error: String(row.error ?? "unknown error") };
}

/** Checks a job's shape (the worker's queue checks it with zod on send); `planJob` checks the rest. */
function parseJob(value: unknown): PeerJob {
	const job = value as Partial<PeerJob> | null;
	if (typeof job !== "object" || job === null || typeof job.jobId !== "string" || !ID_PATTERN.test(job.jobId)) {
		throw new Refusal("invalid_job", "jobId must match [A-Za-z0-9_][A-Za-z0-9_-]{0,99}");
	}
	if (typeof job.kind !== "string" || !JOB_KINDS.has(job.kind) || typeof job.input !== "object" || !job.input) {
		throw new Refusal("invalid_job", "kind must be primes, sha256 or wordstats, with an input object");
	}
	return job as PeerJob;
}

/** `/jobs/<instance>/(start|send)` and `/results/<key>/ws`. */
export async function routeJobs(request: Request, env: JobsEnv): Promise<Response> {
	const [, kind, key, route] = new URL(request.url).pathname.split("/");
	try {
		if (!key || !ID_PATTERN.test(key)) throw new Refusal("invalid_key", "bad instance or results key");
		if (kind === "results" && route === "ws") return env.RESULTS.get(env.RESULTS.idFromName(key)).fetch(request);
		if (kind === "jobs" && request.method === "POST" && route === "start") {
			const body = (await request.json()) as Partial<WorkflowParams>;
			const jobs = body.jobs;
			if (typeof jobs !== "number" || !Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS_PER_INSTANCE) {
				throw new Refusal("invalid_jobs", `jobs must be a whole number from 1 to ${MAX_JOBS_PER_INSTANCE}`);
			}
			if (typeof body.results !== "string" || !ID_PATTERN.test(body.results)) {
				throw new Refusal("invalid_results", "results must name a results object");
			}
			await env.JOBS.create({ id: key, params: { jobs, results: body.results } });
			return json({ id: key });
		}
		if (kind === "jobs" && request.method === "GET" && route === "status") {
			const { status, output } = await (await env.JOBS.get(key)).status();
			return json({ status, output: output ?? null });
		}
		if (kind === "jobs" && request.method === "POST" && route === "send") {
			const job = parseJob(await request.json());
			await (await env.JOBS.get(key)).sendEvent({ type: JOB_EVENT, payload: job });
			return json({ ok: true });
		}
		return json({ code: "not_found", message: "no such route" }, 404);
	} catch (error) {
		if (error instanceof Refusal) return json({ code: error.code, message: error.message }, 400);
		return json({ code: "internal_error", message: errorText("peer", error) }, 500);
	}
}
