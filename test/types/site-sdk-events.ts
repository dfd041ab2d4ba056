/**
 * Checked by `npm run typecheck`: the receiver SDK's event types (site-sdk/src/events.ts, a copy,
 * because the SDK ships alone) and the service's catalog (src/events/catalog.ts) describe the same
 * bodies, type by type. A field added, removed or retyped on one side only fails to compile here.
 */

import type { ScimEvent, EventType as SdkEventType } from "../../site-sdk/src/index.js";
import type { EventBodyOf, EventType } from "../../src/events/catalog";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const sameTypes: Same<EventType, SdkEventType> = true;

export const sameBodies: { [T in EventType]: Same<EventBodyOf<T>, Extract<ScimEvent, { type: T }>> } = {
  "user.created": true,
  "user.updated": true,
  "user.deactivated": true,
  "user.reactivated": true,
  "user.role_changed": true,
  "user.deleted": true,
  "group.created": true,
  "group.updated": true,
  "group.deleted": true,
  "group.members_added": true,
  "group.members_removed": true,
  "user.synced": true,
  "group.synced": true,
};
