// Workaround for rivetkit 2.3.19 with engine 2.3.19: batches and workers
// resume by themselves after the app server was down longer than their
// schedules' lead.
//
// What it works around: the engine spends an actor's alarm when the wake it
// triggers finds no app server (the `/start` request fails, the engine counts
// a crash, and the crash policy rivetkit's client always sets, `sleep`, puts
// the actor to sleep with the alarm gone). The schedule stays stored in the
// actor and fires at its next wake, but nothing wakes it. Measured by
// test/faults/outage.test.ts (a 24-job batch, the only app server stopped
// with SIGTERM for 20 s right after `submit`, no traffic): without this file,
// the coordinator went to sleep at its sweep's due time, each worker at its
// watchdog's, and 0 of 24 jobs were stored 90 s after the restart; with it,
// all 24 stored 3.8 s after the restart.
// The worker's watchdog (`withCrashRecovery`, crash-recovery.ts here) covers a crash
// that the server recovers from within 10 s; a longer outage needs this.
//
// What it does: once the server listens (src/server.ts), it asks the engine
// for the coordinators created in the last RESUME_LOOKBACK_MS and calls
// `resume` on each one that is asleep; a running batch re-arms its sweep and
// wakes its workers, whose queues still hold their jobs. A finished batch
// answers at once and goes back to sleep. Batches older than the lookback
// resume at their next request (opening the page is enough).
//
// Workers too (added 2026-12-06): a worker fed directly (not by a batch) has
// no coordinator to wake it, and its watchdog is only 10-15 s ahead. Measured
// on a loaded machine (load average 13-22, both runtimes): an app server takes
// 7-16 s from spawn to listening, almost all of it importing modules, and in
// one run of test/faults/workflow.test.ts the server listened 13.6 s after
// the kill; the engine's two `/start` attempts for the worker's watchdog came
// 2.1 s before that (`Connection refused` in the engine log), and the job
// never resumed. So the server also wakes (with `status`, server only) every
// worker that went to sleep in the last RESUME_WORKERS_SLEPT_WITHIN_MS: a
// worker interrupted by the outage resumes its job at once; an idle one
// answers and falls asleep again after its sleep timeout.
//
// Delete this file (and its call in src/server.ts) once a wake that finds no
// server is retried by the engine instead of spent.

import { createClient } from "rivetkit/client";
import { BATCH_ID_PATTERN } from "../actors/jobs/contract.ts";
import { serverConnParams } from "../auth/connection.ts";
import { forEachConcurrently } from "../concurrency.ts";
import { type EngineActor, engineAccess, listActorsPage } from "../engine-api.ts";
import { type Env, loadEnv, stripCredentials } from "../env.ts";
import type { Registry } from "../registry.ts";

/** Coordinators created longer ago than this are not resumed at boot. */
export const RESUME_LOOKBACK_MS = 24 * 60 * 60_000;
/** Most coordinators looked at per boot: bounds the engine requests and the wakes. */
export const RESUME_MAX_COORDINATORS = 2_000;
/** Coordinators listed per engine request. */
const RESUME_PAGE_SIZE = 100;
/** Workers that went to sleep this long before the server listens are woken: an outage up to this long. */
export const RESUME_WORKERS_SLEPT_WITHIN_MS = 10 * 60_000;
/** Most workers looked at per boot (newest first): bounds the engine requests and the wakes. */
export const RESUME_MAX_WORKERS = 2_000;
/** `resume` calls in flight at once. */
const RESUME_CONCURRENCY = 4;
/** Tries per coordinator, and the wait between them: the engine may still be finding this server. */
const RESUME_ATTEMPTS = 5;
const RESUME_RETRY_MS = 2_000;

export interface ResumeReport {
	/** Asleep coordinators within the lookback that were asked to resume. */
	asked: number;
	/** Of those, batches that were still running. */
	running: number;
	/** Coordinators whose `resume` failed every attempt. */
	failed: number;
	/** Workers that went to sleep within RESUME_WORKERS_SLEPT_WITHIN_MS, woken. */
	workers: number;
	/** Of those, workers that could not be reached in any attempt. */
	workersFailed: number;
}

/** Wakes the running batches and the workers that an outage left asleep; see the file header. */
export async function resumeAfterOutage(env: Env = loadEnv(), now = Date.now()): Promise<ResumeReport> {
	const asleep = await retried(() => asleepCoordinators(env, now));
	const workers = await retried(() => recentlyAsleepWorkers(env, now));
	const client = createClient<Registry>({
		endpoint: stripCredentials(env.endpoint),
		namespace: env.namespace,
		poolName: env.pool,
		...(env.token ? { token: env.token } : {}),
	});
	const report: ResumeReport = { asked: 0, running: 0, failed: 0, workers: workers.length, workersFailed: 0 };
	try {
		// Only keys a batch can have: rivetkit stores a key's parts joined
		// with `/`, so any other key may not read back as the same actor.
		const batchIds = asleep.flatMap((a) => (a.key !== null && BATCH_ID_PATTERN.test(a.key) ? [a.key] : []));
		report.asked = batchIds.length;
		await forEachConcurrently(batchIds, RESUME_CONCURRENCY, async (batchId) => {
			try {
				const { running } = await retried(async () =>
					client.coordinator.get([batchId], { params: await serverConnParams(env.auth) }).resume(),
				);
				if (running) report.running++;
			} catch {
				report.failed++;
			}
		});
		// By id: a worker's key is whatever its sender chose.
		await forEachConcurrently(workers, RESUME_CONCURRENCY, async ({ actor_id }) => {
			try {
				await retried(async () =>
					client.worker.getForId(actor_id, { params: await serverConnParams(env.auth) }).status(),
				);
			} catch {
				report.workersFailed++;
			}
		});
	} finally {
		await client.dispose();
	}
	return report;
}

async function asleepCoordinators(env: Env, now: number): Promise<EngineActor[]> {
	const engine = engineAccess(env);
	const cutoff = now - RESUME_LOOKBACK_MS;
	const found: EngineActor[] = [];
	let cursor: string | null = null;
	let seen = 0;
	do {
		const page = await listActorsPage(engine, "coordinator", { limit: RESUME_PAGE_SIZE, cursor });
		seen += page.actors.length;
		const recent = page.actors.filter((a) => a.create_ts >= cutoff);
		found.push(...recent.filter((a) => a.sleep_ts != null && a.destroy_ts == null));
		// Newest first: a page with anything older than the cutoff is the last one needed.
		cursor = recent.length === page.actors.length ? page.cursor : null;
	} while (cursor !== null && seen < RESUME_MAX_COORDINATORS);
	return found;
}

/**
 * This pool's workers asleep since at most RESUME_WORKERS_SLEPT_WITHIN_MS,
 * among the RESUME_MAX_WORKERS newest. The engine lists by creation, not by sleep, so
 * every page up to that bound is read.
 */
async function recentlyAsleepWorkers(env: Env, now: number): Promise<EngineActor[]> {
	const engine = engineAccess(env);
	const cutoff = now - RESUME_WORKERS_SLEPT_WITHIN_MS;
	const found: EngineActor[] = [];
	let cursor: string | null = null;
	let seen = 0;
	do {
		const page = await listActorsPage(engine, "worker", { limit: RESUME_PAGE_SIZE, cursor });
		seen += page.actors.length;
		found.push(
			...page.actors.filter(
				(a) =>
					a.runner_name_selector === env.pool && a.sleep_ts != null && a.sleep_ts >= cutoff && a.destroy_ts == null,
			),
		);
		cursor = page.cursor;
	} while (cursor !== null && seen < RESUME_MAX_WORKERS);
	return found;
}

/** `call`, tried up to RESUME_ATTEMPTS times; the last failure is thrown. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await call();
		} catch (error) {
			if (attempt >= RESUME_ATTEMPTS) throw error;
			await new Promise((r) => setTimeout(r, RESUME_RETRY_MS));
		}
	}
}
