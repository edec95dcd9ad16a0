DROP INDEX `messages_username_request_id`;--> statement-breakpoint
ALTER TABLE `messages` ADD `user_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `messages_user_id_request_id` ON `messages` (`user_id`,`request_id`);