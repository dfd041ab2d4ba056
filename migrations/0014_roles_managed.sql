-- Roles the way IdPs assign them now: `roles` (Entra app roles, Okta entitlements) is a role
-- source. A user whose IdP has written `roles` keeps that source even once it is emptied or
-- removed (src/roles/sources.ts): a userType that names no role (Okta's "Employee") then no
-- longer leaves a role in place that only `roles` granted. Until now `roles` was read-only and
-- never stored, so every existing user starts at 0. Adding a column does not rebuild `users`.
ALTER TABLE `users` ADD `roles_managed` integer DEFAULT 0 NOT NULL;
