CREATE TABLE `events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`resource_version` integer NOT NULL,
	`payload` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status` integer,
	`last_error` text,
	`created_at` text NOT NULL,
	`queued_at` text,
	`delivered_at` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_id_uq` ON `events` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `events_resource_version_uq` ON `events` (`resource_type`,`resource_id`,`resource_version`);--> statement-breakpoint
CREATE INDEX `events_state_idx` ON `events` (`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_type_created_idx` ON `events` (`type`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_resource_idx` ON `events` (`resource_id`,`seq`);--> statement-breakpoint
CREATE TABLE `group_members` (
	`group_id` text NOT NULL,
	`user_id` text NOT NULL,
	`added_at` text NOT NULL,
	PRIMARY KEY(`group_id`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `group_members_user_idx` ON `group_members` (`user_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`display_name` text NOT NULL,
	`display_name_norm` text NOT NULL,
	`external_id` text,
	`data` text NOT NULL,
	`version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_id_uq` ON `groups` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `groups_display_name_norm_uq` ON `groups` (`display_name_norm`);--> statement-breakpoint
CREATE INDEX `groups_external_id_idx` ON `groups` (`external_id`);--> statement-breakpoint
CREATE TABLE `provisioning_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`request_id` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`status` integer NOT NULL,
	`resource_type` text,
	`resource_id` text,
	`quirks` text,
	`decisions` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `log_at_idx` ON `provisioning_log` (`at`);--> statement-breakpoint
CREATE INDEX `log_resource_idx` ON `provisioning_log` (`resource_id`,`seq`);--> statement-breakpoint
CREATE INDEX `log_status_idx` ON `provisioning_log` (`status`,`seq`);--> statement-breakpoint
CREATE TABLE `settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`data` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`user_name` text NOT NULL,
	`user_name_norm` text NOT NULL,
	`external_id` text,
	`display_name` text,
	`email_norm` text,
	`active` integer DEFAULT true NOT NULL,
	`user_type` text,
	`role` text DEFAULT 'registered' NOT NULL,
	`type_role` text,
	`data` text NOT NULL,
	`password_hash` text,
	`version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_id_uq` ON `users` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_user_name_norm_uq` ON `users` (`user_name_norm`);--> statement-breakpoint
CREATE INDEX `users_external_id_idx` ON `users` (`external_id`);--> statement-breakpoint
CREATE INDEX `users_email_norm_idx` ON `users` (`email_norm`);--> statement-breakpoint
CREATE INDEX `users_created_idx` ON `users` (`created_at`);--> statement-breakpoint
CREATE INDEX `users_updated_idx` ON `users` (`updated_at`);--> statement-breakpoint
CREATE INDEX `users_active_idx` ON `users` (`active`);