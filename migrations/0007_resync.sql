-- Full resync (user.synced, group.synced): its events carry the job that emitted them and may repeat
-- the version of a resource's last change, so the one-event-per-version rule covers change events only.
DROP INDEX `events_resource_version_uq`;--> statement-breakpoint
ALTER TABLE `events` ADD `job_id` text;--> statement-breakpoint
ALTER TABLE `events` ADD `site_view` text;--> statement-breakpoint
CREATE INDEX `events_job_idx` ON `events` (`job_id`,`state`) WHERE job_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `events_disagreed_idx` ON `events` (`job_id`,`resource_id`) WHERE site_view IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `events_resource_version_uq` ON `events` (`resource_type`,`resource_id`,`resource_version`) WHERE job_id IS NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `stage` text;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_one_resync_uq` ON `jobs` (`kind`) WHERE kind = 'resync' AND state = 'running';