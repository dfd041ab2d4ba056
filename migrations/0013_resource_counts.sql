-- How many users and groups there are, kept by triggers, so a list without a filter reads its
-- totalResults from one row instead of counting the table: at 1,000,000 users count(*) read the
-- whole users_seq_idx (about 20 ms of SQL, and a million rows read, on every page). A filtered
-- list still counts its matches. A migration that rebuilds `users` or `groups` (drizzle-kit's
-- create, copy, drop, rename) drops these triggers with the table: create them again after, and
-- recount.
CREATE TABLE `resource_counts` (
	`resource` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `resource_counts` (`resource`, `n`) SELECT 'users', count(*) FROM `users`;
--> statement-breakpoint
INSERT INTO `resource_counts` (`resource`, `n`) SELECT 'groups', count(*) FROM `groups`;
--> statement-breakpoint
CREATE TRIGGER `users_count_insert` AFTER INSERT ON `users` BEGIN
	UPDATE `resource_counts` SET `n` = `n` + 1 WHERE `resource` = 'users';
END;
--> statement-breakpoint
CREATE TRIGGER `users_count_delete` AFTER DELETE ON `users` BEGIN
	UPDATE `resource_counts` SET `n` = `n` - 1 WHERE `resource` = 'users';
END;
--> statement-breakpoint
CREATE TRIGGER `groups_count_insert` AFTER INSERT ON `groups` BEGIN
	UPDATE `resource_counts` SET `n` = `n` + 1 WHERE `resource` = 'groups';
END;
--> statement-breakpoint
CREATE TRIGGER `groups_count_delete` AFTER DELETE ON `groups` BEGIN
	UPDATE `resource_counts` SET `n` = `n` - 1 WHERE `resource` = 'groups';
END;
