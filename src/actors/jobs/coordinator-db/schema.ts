// The coordinator's SQLite schema (drizzle): one row per job of the batch.
// Job status lives here rather than in state so a batch of hundreds of jobs
// costs one small row write per result, and so status() is one aggregate
// query over rows that each change in a single atomic statement.

import { index, integer, sqliteTable, text } from "rivetkit/db/drizzle";
import type { CoordinatorJobStatus, JobOutput, JobSpec } from "../contract.ts";

export const jobs = sqliteTable(
	"jobs",
	{
		/** Position of the item in the submitted list. */
		index: integer("idx").primaryKey(),
		jobId: text("job_id").notNull().unique(),
		workerId: text("worker_id").notNull(),
		spec: text("spec", { mode: "json" }).$type<JobSpec>().notNull(),
		status: text("status").$type<CoordinatorJobStatus>().notNull(),
		result: text("result", { mode: "json" }).$type<JobOutput>(),
		error: text("error"),
		/**
		 * Sends attempted: 1 after the first, more once the sweep re-sends it.
		 * A job is re-sent at most once after a send that reached its worker,
		 * and at most `MAX_SEND_FAILURES` times in all after sends that failed.
		 */
		dispatches: integer("dispatches").notNull(),
		/** Sends that failed (the worker's queue refused it, the engine was down). */
		sendFailures: integer("send_failures").notNull().default(0),
		dispatchedAt: integer("dispatched_at").notNull(),
		finishedAt: integer("finished_at"),
	},
	// The sweep looks for `dispatched` rows older than a cutoff.
	(table) => [index("jobs_status_dispatched_at").on(table.status, table.dispatchedAt)],
);
