CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`reason` text NOT NULL,
	`cursor` integer DEFAULT 0 NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`processed` integer DEFAULT 0 NOT NULL,
	`changed` integer DEFAULT 0 NOT NULL,
	`kept` integer DEFAULT 0 NOT NULL,
	`chunks` integer DEFAULT 0 NOT NULL,
	`error` text,
	`actor` text,
	`base_url` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`finished_at` text
);
--> statement-breakpoint
CREATE INDEX `jobs_kind_created_idx` ON `jobs` (`kind`,`created_at`);--> statement-breakpoint
DROP INDEX `users_active_idx`;--> statement-breakpoint
CREATE INDEX `users_active_created_idx` ON `users` (`active`,`created_at`);--> statement-breakpoint
ALTER TABLE `users` DROP COLUMN `type_role`;--> statement-breakpoint
ALTER TABLE `events` ADD `hold` text;--> statement-breakpoint
ALTER TABLE `events` ADD `held_by` text;--> statement-breakpoint
CREATE INDEX `events_held_idx` ON `events` (`resource_type`,`resource_id`,`seq`) WHERE state = 'held';