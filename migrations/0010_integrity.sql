-- Integrity under concurrency and faults (the write kernel's compare-and-set, delivery deadlines,
-- the guard's base), as the code now expects it.

-- Settings are written by compare-and-set on a version like users and groups: two saves at once
-- can no longer lose one another's change. A database without a settings row is version 0.
ALTER TABLE `settings` ADD `version` integer DEFAULT 1 NOT NULL;--> statement-breakpoint

-- When an in-flight event is due at the consumer: queued_at for a queued event, the next attempt
-- for a retrying one. The sweeper re-sends an event whose message is overdue (src/events/sweeper.ts).
ALTER TABLE `events` ADD `due_at` text;--> statement-breakpoint
UPDATE `events` SET `due_at` = coalesce(`queued_at`, `updated_at`) WHERE `state` IN ('queued', 'retrying');--> statement-breakpoint
CREATE INDEX `events_due_idx` ON `events` (`due_at`) WHERE state IN ('queued', 'retrying');--> statement-breakpoint

-- The folded userName a user event was about: a new user whose userName a held deletion freed
-- waits behind that deletion (hold 'name'), found through this index of held deletions.
ALTER TABLE `events` ADD `user_name_norm` text;--> statement-breakpoint
UPDATE `events` SET `user_name_norm` = lower(json_extract(`payload`, '$.data.user.userName')) WHERE `resource_type` = 'User';--> statement-breakpoint
CREATE INDEX `events_held_deletion_name_idx` ON `events` (`user_name_norm`) WHERE state = 'held' AND type = 'user.deleted';--> statement-breakpoint

-- How far the queue consumer has got: the newest queue timestamp of a message it has taken, and
-- when it last took a batch. The sweeper tells a lost message from a queue backlog with it.
CREATE TABLE `delivery_progress` (
	`id` integer PRIMARY KEY NOT NULL,
	`reached` text NOT NULL,
	`last_batch_at` text NOT NULL
);--> statement-breakpoint

-- The deprovisioning guard's base: the users active at the start of its hour, kept up to date by
-- triggers instead of counted on every deactivation. `guard_active` is the number of active users
-- now; `guard_active_changes` the net change per minute (+1 became active: created active or
-- reactivated; -1 deactivated or deleted while active). Active at the hour's start = now minus the
-- hour's changes, so users created or reactivated within the hour never raise the threshold.
CREATE TABLE `guard_active` (
	`id` integer PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);--> statement-breakpoint
INSERT INTO `guard_active` (`id`, `n`) SELECT 1, count(*) FROM `users` WHERE `active` = 1;--> statement-breakpoint
CREATE TABLE `guard_active_changes` (
	`minute` text PRIMARY KEY NOT NULL,
	`delta` integer NOT NULL
);--> statement-breakpoint
INSERT INTO `guard_active_changes` (`minute`, `delta`)
SELECT substr(`created_at`, 1, 16), count(*) FROM `users`
WHERE `active` = 1 AND `created_at` > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')
GROUP BY substr(`created_at`, 1, 16);--> statement-breakpoint
-- The minute of a change is the row's own time (created_at, updated_at: the writer's clock, which
-- also sets the guard's hour); a deleted row has none left, so a deletion is dated by SQLite's.
CREATE TRIGGER `users_guard_insert` AFTER INSERT ON `users` WHEN new.active = 1 BEGIN
  UPDATE `guard_active` SET `n` = `n` + 1 WHERE `id` = 1;
  INSERT INTO `guard_active_changes` (`minute`, `delta`) VALUES (substr(new.created_at, 1, 16), 1)
    ON CONFLICT (`minute`) DO UPDATE SET `delta` = `delta` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `users_guard_update` AFTER UPDATE OF `active` ON `users` WHEN old.active IS NOT new.active BEGIN
  UPDATE `guard_active` SET `n` = `n` + (CASE WHEN new.active = 1 THEN 1 ELSE -1 END) WHERE `id` = 1;
  INSERT INTO `guard_active_changes` (`minute`, `delta`) VALUES (substr(new.updated_at, 1, 16), CASE WHEN new.active = 1 THEN 1 ELSE -1 END)
    ON CONFLICT (`minute`) DO UPDATE SET `delta` = `delta` + excluded.`delta`;
END;--> statement-breakpoint
CREATE TRIGGER `users_guard_delete` AFTER DELETE ON `users` WHEN old.active = 1 BEGIN
  UPDATE `guard_active` SET `n` = `n` - 1 WHERE `id` = 1;
  INSERT INTO `guard_active_changes` (`minute`, `delta`) VALUES (strftime('%Y-%m-%dT%H:%M', 'now'), -1)
    ON CONFLICT (`minute`) DO UPDATE SET `delta` = `delta` - 1;
END;--> statement-breakpoint
-- The old count read this index; nothing else does.
DROP INDEX `users_active_created_idx`;--> statement-breakpoint

-- A membership names an existing user of an existing group, whatever races: the write kernel
-- keeps it so (a member add moves each member's version in its batch), and the database refuses
-- a row that would say otherwise. Rows a lost race left behind are removed.
DELETE FROM `group_members` WHERE `user_id` NOT IN (SELECT `id` FROM `users`) OR `group_id` NOT IN (SELECT `id` FROM `groups`);--> statement-breakpoint
CREATE TRIGGER `group_members_references` BEFORE INSERT ON `group_members`
WHEN NOT EXISTS (SELECT 1 FROM `users` WHERE `id` = new.user_id) OR NOT EXISTS (SELECT 1 FROM `groups` WHERE `id` = new.group_id)
BEGIN
  SELECT RAISE(ABORT, 'group_members: not an existing user of an existing group');
END;
