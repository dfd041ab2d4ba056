/**
 * The delivery lifecycle of an outbox event, in one table: every state, what it means, and what
 * each part of the service may do with an event in it. Every list of states (what the consumer
 * may POST, what the dead-letter consumer may mark dead, what an admin may redeliver, what
 * retention may prune, what counts as undelivered) is derived from this table, and the `events`
 * column is typed by it (src/db/schema.ts), so a state cannot be added in one place and missed in
 * another.
 */
interface StateTraits {
  /** What it means, in words (the admin page and docs/webhooks.md say it the same way). */
  meaning: string;
  /** The queue consumer may POST an event in this state when a message for it arrives. */
  sendable: boolean;
  /** A message for it may still be on the queue: the dead-letter consumer may mark it dead. */
  inFlight: boolean;
  /** The site has not received it and it is still meant for it (health, stats, the verdict). */
  undelivered: boolean;
  /** An admin may send this one event again (POST /admin/api/events/{id}/redeliver). */
  redeliverable: boolean;
  /** An admin may send every event in this state again (POST /admin/api/events/redeliver). */
  bulkRedeliverable: boolean;
  /** Retention may delete it once older than eventRetentionDays; anything else is kept. */
  prunable: boolean;
  /**
   * Published: the site may see it, in the pull feed (GET /api/site/v1/events) and by push. An
   * event gets its feed position in the statement that first puts it in such a state (a trigger,
   * migrations/0015), and no state with this trait ever leads back to one without it.
   */
  inFeed: boolean;
}

const LIFECYCLE = {
  pending: {
    meaning: "committed, not on the queue yet (the sweeper sends it)",
    sendable: true,
    inFlight: true,
    undelivered: true,
    redeliverable: false,
    bulkRedeliverable: false,
    prunable: false,
    inFeed: true,
  },
  queued: {
    meaning: "on the queue, on its way to the site",
    sendable: true,
    inFlight: true,
    undelivered: true,
    // A message lost or parked on the queue: a second copy is harmless (same webhook-id).
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: true,
  },
  retrying: {
    meaning: "the site answered 429 or 5xx (or nothing): the queue retries it",
    sendable: true,
    inFlight: true,
    undelivered: true,
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: true,
  },
  delivered: {
    meaning: "the site answered 2xx",
    sendable: false,
    inFlight: false,
    undelivered: false,
    // Resending one delivered event is allowed (the site de-duplicates); resending all of them is not.
    redeliverable: true,
    bulkRedeliverable: false,
    prunable: true,
    inFeed: true,
  },
  rejected: {
    meaning: "the site answered another 4xx: not retried",
    sendable: false,
    inFlight: false,
    undelivered: true,
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: true,
  },
  dead: {
    meaning: "every retry failed: moved to scim-events-dlq",
    sendable: true,
    inFlight: false,
    undelivered: true,
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: true,
  },
  awaiting_pull: {
    meaning: "in the pull feed (siteDelivery pull): the site has not read past it yet",
    // A message for it may come after a switch back to push (the sweeper sends what pull mode left).
    sendable: true,
    inFlight: false,
    undelivered: true,
    // In push mode again, what the site did not pull is sent (the sweeper does it for all of them).
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: true,
  },
  held: {
    meaning: "held by the deprovisioning guard, or waiting behind an event that is",
    sendable: false,
    inFlight: false,
    undelivered: true,
    // Held events go out with release-held: a deliberate guard decision, not a redelivery.
    redeliverable: false,
    bulkRedeliverable: false,
    prunable: false,
    inFeed: false,
  },
  undeliverable: {
    meaning: "no delivery target (MAIN_SITE_URL or the signing secret unset or unusable)",
    sendable: true,
    inFlight: false,
    undelivered: true,
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: true,
  },
  dry_run: {
    meaning: "recorded while dryRun was on, never sent",
    sendable: false,
    inFlight: false,
    undelivered: false,
    // Once dryRun is off: what a dry run recorded (a resync before the site went live) can be sent.
    redeliverable: true,
    bulkRedeliverable: true,
    prunable: false,
    inFeed: false,
  },
  discarded: {
    meaning: "an admin dropped it: never delivered",
    sendable: false,
    inFlight: false,
    undelivered: false,
    redeliverable: false,
    bulkRedeliverable: false,
    prunable: true,
    inFeed: false,
  },
} as const satisfies Record<string, StateTraits>;

export type EventState = keyof typeof LIFECYCLE;

/** Every state, in the table's order (a drizzle enum column takes a non-empty tuple). */
export const EVENT_STATES = Object.keys(LIFECYCLE) as [EventState, ...EventState[]];

type Trait = Exclude<keyof StateTraits, "meaning">;
type StatesWith<T extends Trait> = { [S in EventState]: (typeof LIFECYCLE)[S][T] extends true ? S : never }[EventState];

/** The states that have a trait, typed as exactly those states. */
function statesWith<T extends Trait>(trait: T): StatesWith<T>[] {
  return EVENT_STATES.filter((s) => LIFECYCLE[s][trait]) as StatesWith<T>[];
}

export const SENDABLE = statesWith("sendable");
export const IN_FLIGHT = statesWith("inFlight");
export const UNDELIVERED = statesWith("undelivered");
export const REDELIVERABLE = statesWith("redeliverable");
export const BULK_REDELIVERABLE = statesWith("bulkRedeliverable") as [BulkRedeliverable, ...BulkRedeliverable[]];
export const PRUNABLE = statesWith("prunable");
export const IN_FEED = statesWith("inFeed");
/** Published and not yet at the site: what a pull-mode read past it delivers (src/events/feed.ts). */
export const UNREAD_IN_FEED = IN_FEED.filter((s) => LIFECYCLE[s].undelivered);
export type BulkRedeliverable = StatesWith<"bulkRedeliverable">;

export const isEventState = (value: unknown): value is EventState => typeof value === "string" && Object.hasOwn(LIFECYCLE, value);

/**
 * Why a held event is held (src/events/hold.ts):
 * - guard: the deprovisioning guard stopped this deactivation or deletion (a root);
 * - user: a later event of a user with a held event: shares the root's fate;
 * - cascade: a group.members_removed that a held deletion caused: shares the root's fate;
 * - wait: a later event of a group with a held event: waits only to keep the group's order;
 * - name: an event of a user whose userName was freed by a held deletion of another user: waits
 *   until that deletion is released or discarded, so the site never holds two active accounts
 *   with one userName.
 */
export const HOLD_KINDS = ["guard", "user", "cascade", "wait", "name"] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

/** A state as an SQL string literal: partial indexes (`WHERE state = 'held'`) need the literal, not a parameter. */
export const stateLiteral = (state: EventState): string => `'${state}'`;
