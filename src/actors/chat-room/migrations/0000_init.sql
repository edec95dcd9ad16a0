CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`username` text NOT NULL,
	`text` text NOT NULL,
	`created_at` integer NOT NULL,
	`request_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_username_request_id` ON `messages` (`username`,`request_id`);