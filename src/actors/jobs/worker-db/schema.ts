// The worker's SQLite schema (drizzle): one row per finished job. Rows are
// the worker's durable record of what it computed; they make `getJob` work
// after the actor slept and let a repeated jobId return the stored result
// instead of running again.

import { index, integer, sqliteTable, text } from "rivetkit/db/drizzle";
import type { JobKind, JobOutput } from "../contract.ts";

export const jobs = sqliteTable(
	"jobs",
	{
		jobId: text("job_id").primaryKey(),
		/** The queue message that produced this row (for tracing a result back to its delivery). */
		messageId: text("message_id").notNull(),
		kind: text("kind").$type<JobKind>().notNull(),
		status: text("status").$type<"done" | "failed">().notNull(),
		result: text("result", { mode: "json" }).$type<JobOutput>(),
		error: text("error"),
		finishedAt: integer("finished_at").notNull(),
	},
	(table) => [index("jobs_status").on(table.status)],
);
