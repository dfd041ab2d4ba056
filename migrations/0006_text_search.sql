-- Group displayName is not unique (RFC 7643 §4.2): the lookup index stays, the constraint goes.
DROP INDEX `groups_display_name_norm_uq`;--> statement-breakpoint
CREATE INDEX `groups_display_name_norm_idx` ON `groups` (`display_name_norm`);--> statement-breakpoint
ALTER TABLE `users` ADD `data_fold` text;--> statement-breakpoint
CREATE INDEX `users_unfolded_idx` ON `users` (`seq`) WHERE data_fold IS NULL;--> statement-breakpoint
-- Trigram index of the folded attributes co / sw / ew filters search (src/db/filter-sql.ts:
-- TEXT_SEARCH). Each column holds exactly the expression the filter compares, so the index is
-- only a candidate set: the filter's own instr / substr test decides. Kept by the triggers below.
CREATE VIRTUAL TABLE `users_fts` USING fts5(user_name, display_name, given_name, family_name, emails, tokenize = 'trigram case_sensitive 1');
--> statement-breakpoint
INSERT INTO `users_fts` (rowid, user_name, display_name, given_name, family_name, emails)
SELECT seq, user_name_norm,
  coalesce(json_extract(data_fold, '$."displayName"'), lower(json_extract(data, '$."displayName"'))),
  coalesce(json_extract(data_fold, '$."name"."givenName"'), lower(json_extract(data, '$."name"."givenName"'))),
  coalesce(json_extract(data_fold, '$."name"."familyName"'), lower(json_extract(data, '$."name"."familyName"'))),
  coalesce((SELECT group_concat(coalesce(json_extract(data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
    FROM json_each(data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(email_norm, '')
FROM `users`;
--> statement-breakpoint
CREATE TRIGGER `users_fts_insert` AFTER INSERT ON `users` BEGIN
  INSERT INTO `users_fts` (rowid, user_name, display_name, given_name, family_name, emails) VALUES (new.seq, new.user_name_norm,
    coalesce(json_extract(new.data_fold, '$."displayName"'), lower(json_extract(new.data, '$."displayName"'))),
    coalesce(json_extract(new.data_fold, '$."name"."givenName"'), lower(json_extract(new.data, '$."name"."givenName"'))),
    coalesce(json_extract(new.data_fold, '$."name"."familyName"'), lower(json_extract(new.data, '$."name"."familyName"'))),
    coalesce((SELECT group_concat(coalesce(json_extract(new.data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
      FROM json_each(new.data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(new.email_norm, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_update` AFTER UPDATE OF user_name_norm, email_norm, data, data_fold ON `users`
WHEN old.user_name_norm IS NOT new.user_name_norm OR old.email_norm IS NOT new.email_norm OR old.data IS NOT new.data OR old.data_fold IS NOT new.data_fold
BEGIN
  DELETE FROM `users_fts` WHERE rowid = old.seq;
  INSERT INTO `users_fts` (rowid, user_name, display_name, given_name, family_name, emails) VALUES (new.seq, new.user_name_norm,
    coalesce(json_extract(new.data_fold, '$."displayName"'), lower(json_extract(new.data, '$."displayName"'))),
    coalesce(json_extract(new.data_fold, '$."name"."givenName"'), lower(json_extract(new.data, '$."name"."givenName"'))),
    coalesce(json_extract(new.data_fold, '$."name"."familyName"'), lower(json_extract(new.data, '$."name"."familyName"'))),
    coalesce((SELECT group_concat(coalesce(json_extract(new.data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
      FROM json_each(new.data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(new.email_norm, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_delete` AFTER DELETE ON `users` BEGIN
  DELETE FROM `users_fts` WHERE rowid = old.seq;
END;
