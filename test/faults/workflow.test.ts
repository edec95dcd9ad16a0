// A worker's durable workflow under kill -9: the server is killed three times
// at random points of one job, and restarted with no client traffic. An
// external ledger (the worker's step trail, appended synchronously to a file)
// shows what actually ran.
//
// Expected: recorded steps never run again; only the step in flight at a kill
// (and an `ephemeral` step not yet recorded with it: a validate, a job's last
// chunk) may run a second time (at-least-once for those, so steps are
// idempotent); the job resumes by itself within 30 s of each restart (the
// restarted server's start-up resume wakes the worker,
// src/workarounds/resume-after-outage.ts; its watchdog schedule does if the
// server came back before it fell due); the final result is stored once and
// is correct. The kills land in chunks 1-17, which are recorded steps.

import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { naiveSha256 } from "../actors/jobs/expected.ts";
import { faultCounts } from "./counters.ts";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { clientFor, eventually, type LedgerLine, readLedger, serverParams } from "./support.ts";

const KILLS = 3;
/** 1,000,000 rounds = 20 chunk steps: enough steps to kill in the middle of. */
const JOB = { jobId: "wf-crash-1", kind: "sha256" as const, input: { text: "actor-fleet", rounds: 1_000_000 } };
/** The issue's bound for a crashed job to resume with no client traffic. */
const RESUME_TIMEOUT_MS = 30_000;

const counts = faultCounts("workflow");
let fleet: CrashStack;

beforeAll(async () => {
	fleet = await startCrashStack("workflow");
});

afterEach(({ task }) => fleet.noteResult(task));
afterAll(() => fleet.stop());

const jobLines = (): LedgerLine[] => readLedger(fleet.ledgerFile).filter((l) => l.jobId === JOB.jobId);
const chunkIndex = (step: string): number => (step.startsWith("chunk-") ? Number(step.slice(6)) : -1);

test(`a job survives ${KILLS} kill -9 at random steps and resumes with no traffic`, async () => {
	const client = clientFor(fleet.stack.engine.url);
	// Only the server may send jobs to a worker; the test holds a server token.
	const params = await serverParams();
	await client.worker.getOrCreate(["wf-crash"], { params }).send("jobs", JOB);

	const kills: Array<{ at: number; inFlight: string }> = [];
	const resumeMs: number[] = [];
	for (let k = 0; k < KILLS; k++) {
		// A random chunk in the k-th third of the job.
		const target = k * 6 + 1 + Math.floor(Math.random() * 5);
		await expect
			.poll(() => jobLines().some((l) => l.event === "START" && chunkIndex(l.step) >= target), { interval: 10 })
			.toBe(true);
		const killedPid = fleet.stack.server.pid;
		await fleet.crashServer();
		counts.injected++;
		// Read once the process is gone: a step may have started between the
		// poll above and the kill landing.
		const lastStart = jobLines()
			.filter((l) => l.event === "START" && l.pid === killedPid)
			.at(-1);
		kills.push({ at: Date.now(), inFlight: lastStart?.step ?? "" });
		const restartedAt = Date.now();
		const newPid = fleet.stack.server.pid;
		// Only the ledger file is watched: no request reaches the actor.
		await expect
			.poll(() => jobLines().some((l) => l.pid === newPid), { timeout: RESUME_TIMEOUT_MS, interval: 100 })
			.toBe(true);
		resumeMs.push((jobLines().find((l) => l.pid === newPid)?.ms ?? restartedAt) - restartedAt);
	}
	await expect
		.poll(() => jobLines().some((l) => l.event === "END" && l.step === "store"), { timeout: 60_000, interval: 100 })
		.toBe(true);

	const starts = new Map<string, number>();
	for (const line of jobLines()) if (line.event === "START") starts.set(line.step, (starts.get(line.step) ?? 0) + 1);
	const reran = [...starts].filter(([, n]) => n > 1).map(([step]) => step);
	// Every step ran; none more than twice; only steps in flight at a kill re-ran.
	expect(starts.size).toBe(22); // validate + 20 chunks + store
	expect(Math.max(...starts.values())).toBeLessThanOrEqual(2);
	const inFlight = new Set(kills.map((k) => k.inFlight));
	for (const step of reran) expect(inFlight).toContain(step);
	counts.duplicated += reran.filter((step) => !inFlight.has(step)).length;

	const worker = client.worker.getOrCreate(["wf-crash"], { params });
	const stored = await eventually(() => worker.getJob(JOB.jobId));
	expect(stored).toEqual({ jobId: JOB.jobId, status: "done", result: naiveSha256(JOB.input.text, JOB.input.rounds) });
	expect(await worker.status()).toMatchObject({ completed: 1, failed: 0, current: null });
	console.log(
		`workflow: ${KILLS} kills at ${kills.map((k) => k.inFlight).join(", ")}; re-ran ${reran.join(", ") || "nothing"}; resumed after ${resumeMs.map((ms) => `${(ms / 1_000).toFixed(1)} s`).join(", ")} with no traffic`,
	);
});
