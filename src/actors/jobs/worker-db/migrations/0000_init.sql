CREATE TABLE `jobs` (
	`job_id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`result` text,
	`error` text,
	`finished_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_status` ON `jobs` (`status`);