CREATE TABLE `jobs` (
	`idx` integer PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`worker_id` text NOT NULL,
	`spec` text NOT NULL,
	`status` text NOT NULL,
	`result` text,
	`error` text,
	`dispatches` integer NOT NULL,
	`dispatched_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_job_id_unique` ON `jobs` (`job_id`);--> statement-breakpoint
CREATE INDEX `jobs_status_dispatched_at` ON `jobs` (`status`,`dispatched_at`);