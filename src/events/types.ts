/** Webhook event types (SPEC §9). The names are part of the contract with the main site. */
export const EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deactivated",
  "user.reactivated",
  "user.role_changed",
  "user.deleted",
  "group.created",
  "group.updated",
  "group.deleted",
  "group.members_added",
  "group.members_removed",
  // A resync (src/jobs/resync.ts): the full current state, applied when its version is at least the last applied.
  "user.synced",
  "group.synced",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The events of a resync: state, not change; the site answers them with its own view (src/events/reconcile.ts). */
export const SYNCED_EVENT_TYPES: readonly EventType[] = ["user.synced", "group.synced"];

/** Events the mass-deprovisioning guard counts and may hold. */
export const DEPROVISION_EVENT_TYPES: readonly EventType[] = ["user.deactivated", "user.deleted"];

/** The webhook body, exactly as signed and POSTed (Standard Webhooks). */
export interface WebhookBody {
  type: EventType;
  timestamp: string;
  data: Record<string, unknown> & { id: string; version: number };
}
