import type { MemberOp } from "../scim/patch";

/** Ids whose current membership must be known to apply `ops`, and whether the whole list is needed. */
export function membershipNeeds(ops: readonly MemberOp[]): { ids: string[]; all: boolean } {
  const ids = new Set<string>();
  let all = false;
  for (const op of ops) {
    if (op.op === "removeAll" || op.op === "replace") all = true;
    if (op.op !== "removeAll") op.ids.forEach((id) => ids.add(id));
  }
  return { ids: [...ids], all };
}

/** Ids that must be existing users: anything added (by add or replace). */
export function idsToAdd(ops: readonly MemberOp[]): string[] {
  const ids = new Set<string>();
  for (const op of ops) if (op.op === "add" || op.op === "replace") op.ids.forEach((id) => ids.add(id));
  return [...ids];
}

/**
 * Applies membership operations in order to what is known of the current membership and
 * returns the net change. `current` holds the members among the ids involved (or all members
 * when an operation replaces or clears the list). Adding a member twice or removing a
 * non-member changes nothing (CONFORMANCE 85-86).
 */
export function netMembershipChange(current: ReadonlySet<string>, ops: readonly MemberOp[]): { added: string[]; removed: string[] } {
  const state = new Set(current);
  for (const op of ops) {
    if (op.op === "add") op.ids.forEach((id) => state.add(id));
    else if (op.op === "remove") op.ids.forEach((id) => state.delete(id));
    else if (op.op === "removeAll") state.clear();
    else {
      state.clear();
      op.ids.forEach((id) => state.add(id));
    }
  }
  return {
    added: [...state].filter((id) => !current.has(id)),
    removed: [...current].filter((id) => !state.has(id)),
  };
}
