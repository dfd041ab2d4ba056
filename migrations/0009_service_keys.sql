-- Keys the service makes for itself (signed cursors, OAuth access tokens): random, created on first
-- use, so no deployer has to generate and set one more secret. One row per purpose.
CREATE TABLE `service_keys` (
	`purpose` text PRIMARY KEY NOT NULL,
	`secret` text NOT NULL,
	`created_at` text NOT NULL
);
