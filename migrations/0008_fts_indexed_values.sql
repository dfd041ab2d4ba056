-- The trigram index (0006) is rewritten only when a value it holds changes. Its update trigger
-- rewrote the user's whole index row (delete, then re-tokenize) on any change of `data`: a new
-- title, an enterprise attribute or a displayName in another letter case. The row's values are now
-- written once, in a view both triggers read, and the update trigger compares the view's row with
-- the one indexed. A migration that rebuilds `users` (drizzle-kit's create, copy, drop, rename)
-- must drop this view and the three triggers first and create them again after.
CREATE VIEW `users_fts_source` AS
SELECT seq, user_name_norm AS user_name,
  coalesce(json_extract(data_fold, '$."displayName"'), lower(json_extract(data, '$."displayName"'))) AS display_name,
  coalesce(json_extract(data_fold, '$."name"."givenName"'), lower(json_extract(data, '$."name"."givenName"'))) AS given_name,
  coalesce(json_extract(data_fold, '$."name"."familyName"'), lower(json_extract(data, '$."name"."familyName"'))) AS family_name,
  coalesce((SELECT group_concat(coalesce(json_extract(data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
    FROM json_each(data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(email_norm, '') AS emails
FROM `users`;
--> statement-breakpoint
DROP TRIGGER `users_fts_insert`;
--> statement-breakpoint
CREATE TRIGGER `users_fts_insert` AFTER INSERT ON `users` BEGIN
  INSERT INTO `users_fts` (rowid, user_name, display_name, given_name, family_name, emails)
  SELECT seq, user_name, display_name, given_name, family_name, emails FROM `users_fts_source` WHERE seq = new.seq;
END;
--> statement-breakpoint
DROP TRIGGER `users_fts_update`;
--> statement-breakpoint
-- The first test is 0006's and costs nothing: every user update names `data` in its SET, so the
-- trigger fires on each one, and when only `active` or the role changed the columns are equal.
-- The second reads the index row. A missing index row reads as NULLs, which differ from any
-- source row: the trigger writes it.
CREATE TRIGGER `users_fts_update` AFTER UPDATE OF user_name_norm, email_norm, data, data_fold ON `users`
WHEN (old.user_name_norm IS NOT new.user_name_norm OR old.email_norm IS NOT new.email_norm OR old.data IS NOT new.data OR old.data_fold IS NOT new.data_fold)
  AND (SELECT user_name, display_name, given_name, family_name, emails FROM `users_fts` WHERE rowid = old.seq)
  IS NOT (SELECT user_name, display_name, given_name, family_name, emails FROM `users_fts_source` WHERE seq = new.seq)
BEGIN
  DELETE FROM `users_fts` WHERE rowid = old.seq;
  INSERT INTO `users_fts` (rowid, user_name, display_name, given_name, family_name, emails)
  SELECT seq, user_name, display_name, given_name, family_name, emails FROM `users_fts_source` WHERE seq = new.seq;
END;
