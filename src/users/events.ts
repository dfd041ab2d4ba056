import type { EventType } from "../events/types";
import type { UserState } from "../resources/user";

export interface PlannedEvent {
  type: EventType;
  changes: Record<string, unknown>;
}

/**
 * The attributes whose change the site sees. Not `roles`: in the site's payload it is the
 * effective role (src/resources/user.ts renderSiteUser), whose change is user.role_changed.
 */
function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete("roles");
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

/**
 * The events one user write produces, in order (SPEC §9). Each gets its own version
 * (before.version + 1, + 2, ...), so the site can order and de-duplicate them. A deactivation
 * comes first: when the deprovisioning guard holds it, the write's other events (which carry
 * `active: false` too) wait behind it (src/events/hold.ts) instead of telling the site first.
 */
export function plannedUserEvents(before: UserState | null, after: UserState | null, roleReason?: string): PlannedEvent[] {
  if (before === null) return after ? [{ type: "user.created", changes: {} }] : [];
  if (after === null) return [{ type: "user.deleted", changes: {} }];
  const out: PlannedEvent[] = [];
  const status: PlannedEvent | undefined =
    before.active === after.active
      ? undefined
      : { type: after.active ? "user.reactivated" : "user.deactivated", changes: { active: { from: before.active, to: after.active } } };
  if (status && !after.active) out.push(status);
  const attributes = changedAttributes(before.data, after.data);
  if (attributes.length) out.push({ type: "user.updated", changes: { attributes } });
  if (before.role !== after.role) {
    out.push({ type: "user.role_changed", changes: { role: { from: before.role, to: after.role }, reason: roleReason ?? null } });
  }
  if (status && after.active) out.push(status);
  return out;
}
