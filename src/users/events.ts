import type { EventType } from "../events/types";
import type { UserState } from "./view";

export interface PlannedEvent {
  type: EventType;
  changes: Record<string, unknown>;
}

function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

/**
 * The events one user write produces, in order (SPEC §9). Each gets its own version
 * (before.version + 1, + 2, ...), so the site can order and de-duplicate them.
 */
export function plannedUserEvents(before: UserState | null, after: UserState | null, roleReason?: string): PlannedEvent[] {
  if (before === null) return after ? [{ type: "user.created", changes: {} }] : [];
  if (after === null) return [{ type: "user.deleted", changes: {} }];
  const out: PlannedEvent[] = [];
  const attributes = changedAttributes(before.data, after.data);
  if (attributes.length) out.push({ type: "user.updated", changes: { attributes } });
  if (before.role !== after.role) {
    out.push({ type: "user.role_changed", changes: { role: { from: before.role, to: after.role }, reason: roleReason ?? null } });
  }
  if (before.active !== after.active) {
    out.push({
      type: after.active ? "user.reactivated" : "user.deactivated",
      changes: { active: { from: before.active, to: after.active } },
    });
  }
  return out;
}
