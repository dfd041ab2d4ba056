-- The admin's record (docs/operations.md): each provisioning-log row keeps the names of what it
-- touched as they were when it was written (a deleted user stays findable, on its timeline and in
-- exports), what the request did in words, and the other users a group change touched (their
-- timelines show "added to Site Moderators"); each event held by the deprovisioning guard keeps
-- what the guard's decision saw (the hour's count against the threshold).
ALTER TABLE `provisioning_log` ADD `subject_name` text;--> statement-breakpoint
ALTER TABLE `provisioning_log` ADD `subject_display_name` text;--> statement-breakpoint
ALTER TABLE `provisioning_log` ADD `subject_email` text;--> statement-breakpoint
ALTER TABLE `provisioning_log` ADD `did` text;--> statement-breakpoint
ALTER TABLE `provisioning_log` ADD `related` text;--> statement-breakpoint
-- A deleted user's timeline by email: the rows that named that email (ASCII letters in any case).
CREATE INDEX `log_subject_email_idx` ON `provisioning_log` (lower(`subject_email`),`seq`) WHERE subject_email IS NOT NULL;--> statement-breakpoint
-- The users a log row touched besides its own resource (a group's members added or removed),
-- kept by the triggers below from the row's `related` (a JSON array of {id, did}).
CREATE TABLE `log_related` (
	`resource_id` text NOT NULL,
	`seq` integer NOT NULL,
	`did` text,
	PRIMARY KEY(`resource_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `log_related_seq_idx` ON `log_related` (`seq`);--> statement-breakpoint
CREATE TRIGGER `log_related_insert` AFTER INSERT ON `provisioning_log` WHEN new.related IS NOT NULL BEGIN
  INSERT OR IGNORE INTO log_related (resource_id, seq, did)
    SELECT json_extract(r.value, '$.id'), new.seq, json_extract(r.value, '$.did') FROM json_each(new.related) r
    WHERE json_valid(new.related) AND json_extract(r.value, '$.id') IS NOT NULL;
END;--> statement-breakpoint
CREATE TRIGGER `log_related_delete` AFTER DELETE ON `provisioning_log` WHEN old.related IS NOT NULL BEGIN
  DELETE FROM log_related WHERE seq = old.seq;
END;--> statement-breakpoint
ALTER TABLE `events` ADD `guard_seen` text;--> statement-breakpoint
-- A deleted user's timeline by userName: its newest event under that (folded) userName.
CREATE INDEX `events_user_name_idx` ON `events` (`user_name_norm`,`seq`) WHERE user_name_norm IS NOT NULL;
