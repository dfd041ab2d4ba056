-- OAuth 2.0 for SCIM (RFC 6749 §4.4, RFC 7523): clients an admin creates, and the secrets of the
-- secret clients, stored only as SHA-256 hashes (each is 32 random bytes: no slow hash is needed).
-- A federated client has no secret: it holds the issuer, JWKS URL, subject and audience its
-- assertions are checked against (Entra workload identity federation).
CREATE TABLE `oauth_clients` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`issuer` text,
	`jwks_uri` text,
	`subject` text,
	`audience` text,
	`tenant_id` text,
	`created_at` text NOT NULL,
	`created_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_clients_client_id_uq` ON `oauth_clients` (`client_id`);--> statement-breakpoint
CREATE TABLE `oauth_client_secrets` (
	`id` text PRIMARY KEY NOT NULL,
	`client_ref` text NOT NULL,
	`hash` text NOT NULL,
	`hint` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`created_by` text
);
--> statement-breakpoint
CREATE INDEX `oauth_client_secrets_client_idx` ON `oauth_client_secrets` (`client_ref`);--> statement-breakpoint
-- Which credential authenticated a SCIM request (SCIM_BEARER_TOKEN, SCIM_BEARER_TOKEN_NEXT, or
-- oauth:<client>:<secret or assertion>), on the log row the request writes anyway; the index makes
-- "when was each credential last used" one index seek per credential.
ALTER TABLE `provisioning_log` ADD `credential` text;--> statement-breakpoint
CREATE INDEX `log_credential_idx` ON `provisioning_log` (`credential`,`at`) WHERE credential IS NOT NULL;
