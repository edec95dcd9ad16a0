// Workaround for rivetkit 2.3.19 with engine 2.3.19: batches resume by
// themselves after the app server was down longer than their schedules' lead.
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
// The worker's `keepWatchdogAhead` (src/workarounds/crash-recovery.ts) covers a crash
// that the server recovers from within 10 s; a longer outage needs this.
//
// What it does: once the server listens (src/server.ts), it asks the engine
// for the coordinators created in the last RESUME_LOOKBACK_MS and calls
// `resume` on each one that is asleep; a running batch re-arms its sweep and
// wakes its workers, whose queues still hold their jobs. A finished batch
// answers at once and goes back to sleep. Batches older than the lookback
// resume at their next request (opening the page is enough).
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
}

/** Wakes the running batches that an outage left asleep; see the file header. */
export async function resumeBatchesAfterOutage(env: Env = loadEnv(), now = Date.now()): Promise<ResumeReport> {
	const asleep = await retried(() => asleepCoordinators(env, now));
	const client = createClient<Registry>({
		endpoint: stripCredentials(env.endpoint),
		namespace: env.namespace,
		poolName: env.pool,
		...(env.token ? { token: env.token } : {}),
	});
	const report: ResumeReport = { asked: 0, running: 0, failed: 0 };
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
