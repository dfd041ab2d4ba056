-- The pull feed (GET /api/site/v1/events, docs/webhooks.md "The pull feed"): every published event
-- in one global order, for sites that cannot receive pushes.
--
-- An event's feed position is assigned by the database itself, in the statement that first puts it
-- in a published state (src/lifecycle/events.ts, trait inFeed): the outbox insert when it is not
-- held, the release when it was. D1 runs one write transaction at a time, so positions are handed
-- out in commit order: a reader that has seen position p has seen every position below it, and an
-- event published later (a held deactivation released an hour on) always lands after it.
ALTER TABLE `events` ADD `feed_position` integer;--> statement-breakpoint
-- When it entered the feed: retention counts from here (a released event stays its full term).
ALTER TABLE `events` ADD `published_at` text;--> statement-breakpoint
CREATE UNIQUE INDEX `events_feed_position_uq` ON `events` (`feed_position`) WHERE feed_position IS NOT NULL;--> statement-breakpoint
-- A pull-mode read acknowledges the events up to its cursor that are not delivered yet: a seek per
-- state into this range, however many events the site has not read (a backlog of days included).
CREATE INDEX `events_feed_state_idx` ON `events` (`state`, `feed_position`) WHERE feed_position IS NOT NULL;--> statement-breakpoint

-- One row: `head` the last position handed out (never reused, whatever is pruned), `floor` the
-- highest position pruned (a cursor below it is past retention: 410), and how far the site has read.
CREATE TABLE `site_feed` (
	`id` integer PRIMARY KEY NOT NULL,
	`head` integer NOT NULL,
	`floor` integer NOT NULL,
	`read_through` integer NOT NULL,
	`last_position` integer,
	`last_event_id` text,
	`last_read_at` text
);--> statement-breakpoint

-- What is already published enters the feed in the order it was written, so a site that could
-- never take a push (MAIN_SITE_URL unset: every event kept as undeliverable) can read it all.
UPDATE `events` SET `feed_position` = `n`.`pos`, `published_at` = coalesce(`events`.`queued_at`, `events`.`created_at`)
FROM (SELECT `seq`, row_number() OVER (ORDER BY `seq`) AS `pos` FROM `events`
      WHERE state IN ('pending', 'queued', 'retrying', 'delivered', 'rejected', 'dead', 'awaiting_pull', 'undeliverable')) AS `n`
WHERE `events`.`seq` = `n`.`seq`;--> statement-breakpoint
INSERT INTO `site_feed` (`id`, `head`, `floor`, `read_through`) SELECT 1, coalesce(max(`feed_position`), 0), 0, 0 FROM `events`;--> statement-breakpoint

-- The state list is IN_FEED of src/lifecycle/events.ts (test/integration/site-feed-schema.test.ts
-- holds the two together). Every transition into it sets updated_at, the moment it was published.
CREATE TRIGGER `events_feed_insert` AFTER INSERT ON `events`
WHEN new.feed_position IS NULL AND new.state IN ('pending', 'queued', 'retrying', 'delivered', 'rejected', 'dead', 'awaiting_pull', 'undeliverable')
BEGIN
  UPDATE `site_feed` SET `head` = `head` + 1 WHERE `id` = 1;
  UPDATE `events` SET `feed_position` = (SELECT `head` FROM `site_feed` WHERE `id` = 1), `published_at` = new.updated_at WHERE `seq` = new.seq;
END;--> statement-breakpoint
CREATE TRIGGER `events_feed_update` AFTER UPDATE OF `state` ON `events`
WHEN new.feed_position IS NULL AND new.state IN ('pending', 'queued', 'retrying', 'delivered', 'rejected', 'dead', 'awaiting_pull', 'undeliverable')
BEGIN
  UPDATE `site_feed` SET `head` = `head` + 1 WHERE `id` = 1;
  UPDATE `events` SET `feed_position` = (SELECT `head` FROM `site_feed` WHERE `id` = 1), `published_at` = new.updated_at WHERE `seq` = new.seq;
END;--> statement-breakpoint
-- Retention deletes delivered events; the feed remembers the highest position it lost.
CREATE TRIGGER `events_feed_delete` AFTER DELETE ON `events` WHEN old.feed_position IS NOT NULL
BEGIN
  UPDATE `site_feed` SET `floor` = max(`floor`, old.feed_position) WHERE `id` = 1;
END;
