import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    data: text("data").notNull(),
    /**
     * `data` with only its caseExact:false strings, Unicode-folded (src/scim/fold.ts): what
     * filters and sortBy compare those attributes against. NULL on rows written before it
     * existed until the cron has filled it in (src/users/fold-backfill.ts); SQL reads
     * lower(data) for them meanwhile.
     */
    dataFold: text("data_fold"),
    passwordHash: text("password_hash"),
    version: integer("version").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_id_uq").on(t.id),
    uniqueIndex("users_user_name_norm_uq").on(t.userNameNorm),
    index("users_external_id_idx").on(t.externalId),
    index("users_email_norm_idx").on(t.emailNorm),
    index("users_created_idx").on(t.createdAt),
    index("users_updated_idx").on(t.updatedAt),
    // The deprovisioning guard counts active users created before its window (src/events/outbox.ts).
    index("users_active_created_idx").on(t.active, t.createdAt),
    // Looks redundant (seq is the rowid) but is the narrowest index in seq order: an import page
    // deep in the directory (LIMIT 100 OFFSET 99,900) steps over index entries of a few bytes
    // instead of whole table rows with their JSON, ~40x less to read (bench/README.md).
    index("users_seq_idx").on(t.seq),
    // Rows whose data_fold is still to be filled in: empty once the backfill is done.
    index("users_unfolded_idx").on(t.seq).where(sql`data_fold IS NULL`),
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
  },
  (t) => [
    uniqueIndex("groups_id_uq").on(t.id),
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

/** Single-row settings document (id = 1), validated by zod on read and write. */
export const settings = sqliteTable("settings", {
  id: integer("id").primaryKey(),
  data: text("data").notNull(),
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
    /** pending | queued | delivered | retrying | rejected | dead | held | undeliverable | dry_run | discarded */
    state: text("state").notNull(),
    /**
     * Why a held event is held (src/events/hold.ts): guard (the deprovisioning guard stopped it),
     * user (a later event of a user whose deprovisioning is held), cascade (a group's
     * members_removed from a held deletion), wait (a group event behind an earlier held one).
     */
    hold: text("hold"),
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
    createdAt: text("created_at").notNull(),
    queuedAt: text("queued_at"),
    deliveredAt: text("delivered_at"),
    updatedAt: text("updated_at").notNull(),
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
  ],
);

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
    /** roles | resync */
    kind: text("kind").notNull(),
    /** A resync's stage: users, then groups (cursor is the last seq done in it). */
    stage: text("stage"),
    /** running | done | superseded | failed */
    state: text("state").notNull(),
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
  },
  (t) => [
    index("log_at_idx").on(t.at),
    index("log_resource_idx").on(t.resourceId, t.seq),
    index("log_status_idx").on(t.status, t.seq),
    // The counted row of a client's refused requests (src/log/refused.ts) is upserted on its key.
    uniqueIndex("log_refused_uq").on(t.requestId).where(sql`method = 'REFUSED'`),
  ],
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
 * How many rows `users` and `groups` hold ("users", "groups"), kept by triggers
 * (migrations/0013_resource_counts.sql, not declared here: drizzle has no triggers): the
 * totalResults of a list without a filter, read from one row (src/db/lists.ts).
 */
export const resourceCounts = sqliteTable("resource_counts", {
  resource: text("resource").primaryKey(),
  n: integer("n").notNull(),
});
