-- userNames as Unicode identities (src/scim/text.ts foldCase, src/scim/username.ts) and U+0000 in
-- the trigram index (src/db/text-index.ts).
--
-- 1. The fold changes (NFKC_Casefold: full case folding, so a final sigma, ß and ẞ fold like the
-- rest; default-ignorable characters removed). SQL can't compute it, so rows keep the fold they
-- were written with, recorded in fold_version (0: the old fold), until the cron refolds them in
-- chunks (src/jobs/fold.ts): user_name_norm, email_norm and data_fold together, per row, compare-
-- and-set on the row's version. Adding a column with a default rewrites no row.
ALTER TABLE `users` ADD `fold_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `users_refold_idx` ON `users` (`seq`) WHERE fold_version < 1;--> statement-breakpoint
-- Groups' display_name_norm likewise. Group writes fold with the current fold but leave this
-- column alone, so a group created later is refolded once too, to the same value.
ALTER TABLE `groups` ADD `fold_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `groups_refold_idx` ON `groups` (`seq`) WHERE fold_version < 1;--> statement-breakpoint
-- 2. Two users written before this may fold to one userName (ΟΔΟΣ@x and οδοσ@x). The refold can't
-- merge or drop either, so it records the key it found taken in user_name_dup; while that equals
-- the row's user_name_norm, the row's own seq keeps it out of the uniqueness, and every write to it
-- (a deactivation) still goes through. Every other row is unique on user_name_norm as before, and
-- lookups still read the index's first column.
ALTER TABLE `users` ADD `user_name_dup` text;--> statement-breakpoint
DROP INDEX `users_user_name_norm_uq`;--> statement-breakpoint
CREATE UNIQUE INDEX `users_user_name_norm_uq` ON `users` (`user_name_norm`,(CASE WHEN user_name_dup = user_name_norm THEN seq ELSE 0 END));--> statement-breakpoint
-- 3. FTS5's trigram tokenizer stops reading a value at its first U+0000: a userName "a\0filo" was
-- indexed as "a", so co "ilo" missed it, and a search holding U+0000 was an unterminated FTS5
-- string (a 500). The view now holds each value as a JSON string literal (json_quote escapes
-- U+0000 and every other control character), as the search is written (src/db/text-index.ts, which
-- has this view's text; test/integration/text-index-source.test.ts compares them). The triggers
-- read the view by name and stay as they are; every index row is written again from the view, once
-- (a full rebuild, as 0006 built it).
DROP VIEW `users_fts_source`;--> statement-breakpoint
CREATE VIEW `users_fts_source` AS
SELECT seq,
  json_quote(user_name_norm) AS user_name,
  CASE WHEN coalesce(json_extract(data_fold, '$."displayName"'), lower(json_extract(data, '$."displayName"'))) IS NULL THEN NULL ELSE json_quote(coalesce(json_extract(data_fold, '$."displayName"'), lower(json_extract(data, '$."displayName"')))) END AS display_name,
  CASE WHEN coalesce(json_extract(data_fold, '$."name"."givenName"'), lower(json_extract(data, '$."name"."givenName"'))) IS NULL THEN NULL ELSE json_quote(coalesce(json_extract(data_fold, '$."name"."givenName"'), lower(json_extract(data, '$."name"."givenName"')))) END AS given_name,
  CASE WHEN coalesce(json_extract(data_fold, '$."name"."familyName"'), lower(json_extract(data, '$."name"."familyName"'))) IS NULL THEN NULL ELSE json_quote(coalesce(json_extract(data_fold, '$."name"."familyName"'), lower(json_extract(data, '$."name"."familyName"')))) END AS family_name,
  json_quote(coalesce((SELECT group_concat(coalesce(json_extract(data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
    FROM json_each(data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(email_norm, '')) AS emails
FROM `users`;--> statement-breakpoint
DELETE FROM `users_fts`;--> statement-breakpoint
INSERT INTO `users_fts` (rowid, user_name, display_name, given_name, family_name, emails)
SELECT seq, user_name, display_name, given_name, family_name, emails FROM `users_fts_source`;
