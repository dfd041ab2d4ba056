DROP INDEX `events_type_created_idx`;--> statement-breakpoint
CREATE INDEX `events_type_created_idx` ON `events` (`type`,`created_at`,`state`);