/** Webhook event types (SPEC §9): defined, with their payloads, in ./catalog.ts. */
export { EVENT_TYPES, type EventType } from "./catalog";

import type { EventType } from "./catalog";

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
