import type { EventState } from "./types";

/**
 * The states an admin may resend one event at a time (POST /admin/api/events/{id}/redeliver), and
 * the admin page's buttons. Not held (that is release-held, a deliberate guard decision), not
 * pending (the sweeper sends it), not discarded. queued and retrying are allowed for a message
 * lost or parked in the queue: a second copy is harmless, the consumer is idempotent and the site
 * sees one webhook-id. dry_run is allowed once dryRun is off: what a dry run recorded (a resync
 * before the site went live) can then be sent.
 */
export const REDELIVERABLE = [
  "undeliverable",
  "rejected",
  "dead",
  "retrying",
  "queued",
  "delivered",
  "dry_run",
] as const satisfies readonly EventState[];

/** Bulk redelivery by state (POST /admin/api/events/redeliver): not delivered, so resending the whole history takes ids. */
export const BULK_REDELIVERABLE = [
  "undeliverable",
  "rejected",
  "dead",
  "retrying",
  "queued",
  "dry_run",
] as const satisfies readonly EventState[];

export type BulkRedeliverable = (typeof BULK_REDELIVERABLE)[number];
