import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { EVENT_STATES, HOLD_KINDS } from "../lifecycle/events";
import { JOB_KINDS, JOB_STATES, RESYNC_STAGES } from "../lifecycle/jobs";
import type { CredentialKey } from "./credentials";

/**
 * D1 schema. Every resource keeps its full SCIM attributes as JSON in `data` (the
 * values exactly as the IdP sent them) plus a few columns that filters, sorting and
 * uniqueness need to hit an index. `*_norm` columns hold the Unicode case-folded form:
 * SQLite's NOCASE folds ASCII only, and userName / displayName are caseExact:false.
 * `users_fts` (migrations/0006_text_search.sql, kept by triggers, not declared here: drizzle
 * has no virtual tables) is a trigram index of the folded attributes `co`, `sw` and `ew`
 * filters search (src/db/filter-sql.ts); its triggers read the view `users_fts_source`
 * (migrations/0008). A migration that rebuilds `users` (drizzle-kit's create, copy, drop,
 * rename) must drop that view and the triggers first and create them again after.
 */
export const users = sqliteTable(
  "users",
  {
    // rowid alias: the stable default order for paging (Okta requires a consistent order).
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    userName: text("user_name").notNull(),
    userNameNorm: text("user_name_norm").notNull(),
    externalId: text("external_id"),
    displayName: text("display_name"),
    /** Normalised primary (else first) email, for the Okta "email" unique-identifier lookup. */
    emailNorm: text("email_norm"),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    userType: text("user_type"),
    /** Effective site role: registered | moderator | admin (src/roles/rules.ts decides it). */
    role: text("role").notNull().default("registered"),
    /**
     * The IdP has written `roles` for this user (migrations/0014): from then on `roles` is one of
     * its role sources even when emptied or removed (src/roles/sources.ts rolesSource).
     */
    rolesManaged: integer("roles_managed", { mode: "boolean" }).notNull().default(false),
    data: text("data").notNull(),
    /**
     * `data` with only its caseExact:false strings, Unicode-folded (src/scim/fold.ts): what
     * filters and sortBy compare those attributes against. NULL on rows written before it
     * existed until the cron has filled it in (src/jobs/fold.ts); SQL reads
     * lower(data) for them meanwhile.
     */
    dataFold: text("data_fold"),
    /** The fold user_name_norm, email_norm and data_fold were made with (src/resources/user.ts FOLD_VERSION). */
    foldVersion: integer("fold_version").notNull().default(0),
    /**
     * Set by the refold (src/jobs/fold.ts) on a user written before the userName rules whose
     * userName folds, under the current fold, to one another user already holds: the key it found
     * taken. While it equals user_name_norm the row stays out of the uniqueness (users_user_name_norm_uq),
     * so writes to it (a deactivation) still go through; the admin page shows the pair. Renamed,
     * the row is unique again like any other.
     */
    userNameDup: text("user_name_dup"),
    passwordHash: text("password_hash"),
    version: integer("version").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_id_uq").on(t.id),
    // Unique per folded userName, except a legacy duplicate the refold found (user_name_dup): its
    // own seq sets it apart while its key is the one found taken. Lookups use the first column.
    uniqueIndex("users_user_name_norm_uq").on(t.userNameNorm, sql`(CASE WHEN user_name_dup = user_name_norm THEN seq ELSE 0 END)`),
    index("users_external_id_idx").on(t.externalId),
    index("users_email_norm_idx").on(t.emailNorm),
    index("users_created_idx").on(t.createdAt),
    index("users_updated_idx").on(t.updatedAt),
    // Looks redundant (seq is the rowid) but is the narrowest index in seq order: an import page
    // deep in the directory (LIMIT 100 OFFSET 99,900) steps over index entries of a few bytes
    // instead of whole table rows with their JSON, ~40x less to read (bench/README.md).
    index("users_seq_idx").on(t.seq),
    // Rows whose data_fold is still to be filled in: empty once the backfill is done.
    index("users_unfolded_idx").on(t.seq).where(sql`data_fold IS NULL`),
    // Rows folded with an older fold than FOLD_VERSION (src/jobs/fold.ts): empty once refolded.
    index("users_refold_idx").on(t.seq).where(sql`fold_version < 1`),
  ],
);

export const groups = sqliteTable(
  "groups",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    displayName: text("display_name").notNull(),
    displayNameNorm: text("display_name_norm").notNull(),
    externalId: text("external_id"),
    data: text("data").notNull(),
    version: integer("version").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    /** Set by the refold (src/jobs/fold.ts) once display_name_norm has the current fold; writes leave it alone. */
    foldVersion: integer("fold_version").notNull().default(0),
  },
  (t) => [
    uniqueIndex("groups_id_uq").on(t.id),
    index("groups_refold_idx").on(t.seq).where(sql`fold_version < 1`),
    // Not unique (RFC 7643 §4.2; Entra provisions two groups of one name): the lookup index only.
    index("groups_display_name_norm_idx").on(t.displayNameNorm),
    index("groups_external_id_idx").on(t.externalId),
  ],
);

/** Membership as rows: concurrent PATCHes add and remove rows, never rewrite a list. */
export const groupMembers = sqliteTable(
  "group_members",
  {
    groupId: text("group_id").notNull(),
    userId: text("user_id").notNull(),
    addedAt: text("added_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index("group_members_user_idx").on(t.userId)],
);

/**
 * Single-row settings document (id = 1), validated by zod on read and write, and written by
 * compare-and-set on `version` (src/write/cas.ts). No row yet reads as version 0 and the defaults.
 */
export const settings = sqliteTable("settings", {
  id: integer("id").primaryKey(),
  data: text("data").notNull(),
  version: integer("version").notNull().default(1),
  updatedAt: text("updated_at").notNull(),
});

/**
 * The outbox: one row per change, written in the same D1 batch as the change (and a resync's
 * synced events). For change events (job_id NULL) (resource_type, resource_id, resource_version)
 * is unique, which also makes a second writer that raced on the same read version fail as a
 * whole batch.
 */
export const events = sqliteTable(
  "events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    type: text("type").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    resourceVersion: integer("resource_version").notNull(),
    /** The webhook body exactly as delivered: {"type","timestamp","data"}. */
    payload: text("payload").notNull(),
    /** Its place in the delivery lifecycle (src/lifecycle/events.ts, one table of every state). */
    state: text("state", { enum: EVENT_STATES }).notNull(),
    /** Why a held event is held (src/lifecycle/events.ts HOLD_KINDS, src/events/hold.ts). */
    hold: text("hold", { enum: HOLD_KINDS }),
    /** For user and cascade holds, the guard-held event they share fate with. */
    heldBy: text("held_by"),
    /** The resync (a jobs row) that emitted this user.synced / group.synced event; NULL for changes. */
    jobId: text("job_id"),
    /**
     * A synced event the site answered with a view that differs from the directory's
     * (src/events/reconcile.ts): `{"fields":[...],"site":{...},"directory":{...}}`; NULL otherwise.
     */
    siteView: text("site_view"),
    attempts: integer("attempts").notNull().default(0),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    /** For a user event, the folded userName it is about (a held deletion frees that name). */
    userNameNorm: text("user_name_norm"),
    /**
     * For an event the deprovisioning guard held (hold guard): what its decision saw, as JSON
     * `{"count","maxPerHour","activeAtHourStart","threshold"}` (src/events/outbox.ts), so the
     * admin page can say why in numbers. NULL otherwise (and for holds decided before it existed).
     */
    guardSeen: text("guard_seen"),
    createdAt: text("created_at").notNull(),
    queuedAt: text("queued_at"),
    /**
     * When an in-flight event is due at the consumer: its queue send for a queued event, its next
     * attempt for a retrying one. Overdue and not taken: its message was lost (src/events/sweeper.ts).
     */
    dueAt: text("due_at"),
    deliveredAt: text("delivered_at"),
    updatedAt: text("updated_at").notNull(),
    /**
     * Its place in the pull feed (src/events/feed.ts): assigned by a trigger (migrations/0015) in
     * the statement that first puts the event in a published state (lifecycle trait inFeed), in
     * commit order; NULL while held, in dry run, or discarded. Never written by the service.
     */
    feedPosition: integer("feed_position"),
    /** When it got its feed position; the feed's retention counts from here. */
    publishedAt: text("published_at"),
  },
  (t) => [
    uniqueIndex("events_id_uq").on(t.id),
    // Change events only: a synced event repeats the version of the resource's last change.
    uniqueIndex("events_resource_version_uq").on(t.resourceType, t.resourceId, t.resourceVersion).where(sql`job_id IS NULL`),
    // A resync's progress: its events by state (src/admin/resync.ts).
    index("events_job_idx").on(t.jobId, t.state).where(sql`job_id IS NOT NULL`),
    // The resources where the site disagreed with a resync (few): listed on the admin page.
    index("events_disagreed_idx").on(t.jobId, t.resourceId).where(sql`site_view IS NOT NULL`),
    index("events_state_idx").on(t.state, t.createdAt),
    // state is in the index so the deprovisioning guard's count (src/events/outbox.ts: recent
    // deactivations, state <> 'discarded') reads index entries only, not every recent event row
    // with its payload: 2.2 ms → 0.1 ms per deactivation after 2,000 in the hour (bench/README.md).
    index("events_type_created_idx").on(t.type, t.createdAt, t.state),
    index("events_resource_idx").on(t.resourceId, t.seq),
    // Tiny (held events only): "does this resource have a held event?" on every outbox insert.
    index("events_held_idx").on(t.resourceType, t.resourceId, t.seq).where(sql`state = 'held'`),
    // Tiny too: "did a held deletion free this userName?" on every user event's insert.
    index("events_held_deletion_name_idx").on(t.userNameNorm).where(sql`state = 'held' AND type = 'user.deleted'`),
    // In-flight events by when they are due: the sweeper's search for lost messages.
    index("events_due_idx").on(t.dueAt).where(sql`state IN ('queued', 'retrying')`),
    // The pull feed's order: a page is a range of it.
    uniqueIndex("events_feed_position_uq").on(t.feedPosition).where(sql`feed_position IS NOT NULL`),
    // A pull-mode read's acknowledgement: the undelivered events up to the site's cursor, by state.
    index("events_feed_state_idx").on(t.state, t.feedPosition).where(sql`feed_position IS NOT NULL`),
    // A deleted user's timeline by userName (src/admin/log.ts): its newest event under that name.
    index("events_user_name_idx").on(t.userNameNorm, t.seq).where(sql`user_name_norm IS NOT NULL`),
  ],
);

/**
 * The pull feed's one row (id 1, migrations/0015): `head` the last position handed out (never
 * reused), `floor` the highest position retention has deleted (a cursor below it is past
 * retention), `readThrough` the highest position the site has acknowledged in pull mode, and the
 * site's last read (its cursor's position and event, and when), for the admin page.
 */
export const siteFeed = sqliteTable("site_feed", {
  id: integer("id").primaryKey(),
  head: integer("head").notNull(),
  floor: integer("floor").notNull(),
  readThrough: integer("read_through").notNull(),
  lastPosition: integer("last_position"),
  lastEventId: text("last_event_id"),
  lastReadAt: text("last_read_at"),
});

/**
 * How far the queue consumer has got (one row, id 1): the newest queue timestamp among the
 * messages it has taken, and when it last took a batch. The sweeper tells a lost message from a
 * backlog with it (src/events/sweeper.ts).
 */
export const deliveryProgress = sqliteTable("delivery_progress", {
  id: integer("id").primaryKey(),
  reached: text("reached").notNull(),
  lastBatchAt: text("last_batch_at").notNull(),
});

/**
 * The deprovisioning guard's base (migrations/0010): active users now (one row, id 1), and the net
 * change of that number per minute, both kept by triggers on `users`. Active at the start of the
 * guard's hour is `n` minus the hour's changes (src/events/outbox.ts).
 */
export const guardActive = sqliteTable("guard_active", {
  id: integer("id").primaryKey(),
  n: integer("n").notNull(),
});

export const guardActiveChanges = sqliteTable("guard_active_changes", {
  /** `YYYY-MM-DDTHH:MM` (UTC) */
  minute: text("minute").primaryKey(),
  delta: integer("delta").notNull(),
});

/**
 * Background work done in bounded chunks through the queue (src/jobs/): re-evaluating every
 * user's role after a settings change (roles), sending the whole directory to the site (resync).
 * `cursor` is the last seq done (users.seq; for a resync in its groups stage, groups.seq); a
 * chunk's writes and its cursor move commit in one batch, so a job resumes where it stopped
 * after any crash.
 */
export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: JOB_KINDS }).notNull(),
    /** A resync's stage: users, then groups (cursor is the last seq done in it). */
    stage: text("stage", { enum: RESYNC_STAGES }),
    state: text("state", { enum: JOB_STATES }).notNull(),
    /** Why it runs, for the admin page and the log ("moderatorGroup: null → \"g1\""). */
    reason: text("reason").notNull(),
    cursor: integer("cursor").notNull().default(0),
    /** Resources to visit, counted when the job started. */
    total: integer("total").notNull().default(0),
    processed: integer("processed").notNull().default(0),
    changed: integer("changed").notNull().default(0),
    kept: integer("kept").notNull().default(0),
    chunks: integer("chunks").notNull().default(0),
    error: text("error"),
    actor: text("actor"),
    /** The SCIM base URL of the request that started it: events carry absolute meta.location. */
    baseUrl: text("base_url").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [
    index("jobs_kind_created_idx").on(t.kind, t.createdAt),
    // One resync at a time: a second start fails on this index and answers 409.
    uniqueIndex("jobs_one_resync_uq").on(t.kind).where(sql`kind = 'resync' AND state = 'running'`),
  ],
);

/** The provisioning log: every SCIM request, what it touched, and what was decided. */
export const provisioningLog = sqliteTable(
  "provisioning_log",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    at: text("at").notNull(),
    requestId: text("request_id").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    resourceType: text("resource_type"),
    resourceId: text("resource_id"),
    /** JSON array of IdP quirks tolerated, e.g. ["active sent as string \"False\""]. */
    quirks: text("quirks"),
    /** JSON array of decisions, e.g. ["role kept: admin promotion off"]. */
    decisions: text("decisions"),
    detail: text("detail"),
    /** Who took an admin action: the Cloudflare Access email, or "admin token". */
    actor: text("actor"),
    /**
     * The credential that authenticated the request (src/db/credentials.ts): SCIM_BEARER_TOKEN,
     * SCIM_BEARER_TOKEN_NEXT, or oauth:<client>:<secret id or "assertion">; NULL for admin actions.
     */
    credential: text("credential").$type<CredentialKey>(),
    /**
     * The names of what the row touched as they were when it was written (src/log/entry.ts): the
     * user's userName, displayName and primary email, or the group's displayName. A deleted user
     * stays findable by them, on its timeline and in exports. NULL on rows from before they existed.
     */
    subjectName: text("subject_name"),
    subjectDisplayName: text("subject_display_name"),
    subjectEmail: text("subject_email"),
    /** What the request did, in words, as a JSON array ("deactivated", "title: Eng → Staff"); NULL when nothing. */
    did: text("did"),
    /**
     * Other users the request touched, as a JSON array of `{"id","did"}` (a group's members added or
     * removed): triggers copy them into `log_related`, so their timelines show the row.
     */
    related: text("related"),
  },
  (t) => [
    index("log_at_idx").on(t.at),
    index("log_resource_idx").on(t.resourceId, t.seq),
    index("log_status_idx").on(t.status, t.seq),
    // The counted row of a client's refused requests (src/log/refused.ts) is upserted on its key.
    uniqueIndex("log_refused_uq").on(t.requestId).where(sql`method = 'REFUSED'`),
    // "When was each credential last used" (the Connect page): one index seek per credential.
    index("log_credential_idx").on(t.credential, t.at).where(sql`credential IS NOT NULL`),
    // A deleted user's timeline by email: the rows that named it (ASCII letters in any case).
    index("log_subject_email_idx").on(sql`lower(${t.subjectEmail})`, t.seq).where(sql`subject_email IS NOT NULL`),
  ],
);

/**
 * The users a log row touched besides its own resource (migrations/0016: kept by triggers from
 * provisioning_log.related, deleted with the row): one user's timeline reads its rows here too.
 */
export const logRelated = sqliteTable(
  "log_related",
  {
    resourceId: text("resource_id").notNull(),
    seq: integer("seq").notNull(),
    /** What the row did to this user, in words ("added to Site Moderators"). */
    did: text("did"),
  },
  (t) => [primaryKey({ columns: [t.resourceId, t.seq] }), index("log_related_seq_idx").on(t.seq)],
);

/**
 * Keys the service makes for itself (src/keys/service-key.ts): 32 random bytes per purpose,
 * created on first use, so signing cursors or access tokens needs no secret to deploy.
 */
export const serviceKeys = sqliteTable("service_keys", {
  purpose: text("purpose").primaryKey(),
  /** base64 of 32 random bytes. */
  secret: text("secret").notNull(),
  createdAt: text("created_at").notNull(),
});

/**
 * OAuth 2.0 clients for SCIM (src/oauth/), created by an admin. `client_id` is what the IdP sends
 * (Entra's "Client Identifier"); `id` names the client in the admin API. A secret client proves
 * itself with one of its secrets; a federated client with an assertion (RFC 7523) signed by a key
 * of `jwks_uri`, issued by `issuer` for `audience` about `subject` (Entra workload identity
 * federation; `tenant_id` when the issuer is an Entra tenant, whose `tid` claim must match).
 */
export const oauthClients = sqliteTable(
  "oauth_clients",
  {
    id: text("id").primaryKey(),
    clientId: text("client_id").notNull(),
    name: text("name").notNull(),
    type: text("type", { enum: ["secret", "federated"] }).notNull(),
    issuer: text("issuer"),
    jwksUri: text("jwks_uri"),
    subject: text("subject"),
    audience: text("audience"),
    tenantId: text("tenant_id"),
    createdAt: text("created_at").notNull(),
    createdBy: text("created_by"),
  },
  (t) => [uniqueIndex("oauth_clients_client_id_uq").on(t.clientId)],
);

/**
 * A secret client's secrets, several at once (rotation): SHA-256 of the secret, never the secret;
 * `hint` is its last four characters, so an admin can tell which one an IdP holds.
 */
export const oauthClientSecrets = sqliteTable(
  "oauth_client_secrets",
  {
    id: text("id").primaryKey(),
    /** oauth_clients.id */
    clientRef: text("client_ref").notNull(),
    hash: text("hash").notNull(),
    hint: text("hint").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    createdBy: text("created_by"),
  },
  (t) => [index("oauth_client_secrets_client_idx").on(t.clientRef)],
);

/**
 * How many rows `users` and `groups` hold ("users", "groups"), kept by triggers
 * (migrations/0013_resource_counts.sql, not declared here: drizzle has no triggers): the
 * totalResults of a list without a filter, read from one row (src/db/lists.ts).
 */
export const resourceCounts = sqliteTable("resource_counts", {
  resource: text("resource").primaryKey(),
  n: integer("n").notNull(),
});
