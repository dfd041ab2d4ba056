/**
 * PATCH on Group `members`. Membership is stored as rows (a group may have 10,000 members), so
 * these operations are never applied to the group's data: they are returned, in order, as
 * `MemberOp`s for the store to run as set operations on the membership table.
 */
import { ScimError } from "./errors";
import type { Filter, PatchPath } from "./filter/ast";
import { addQuirk, coerceValue, isPlainObject, isUnassigned } from "./resource";
import type { AttributeDef } from "./schemas";

export type MemberOp =
  | { op: "add"; ids: string[] }
  | { op: "remove"; ids: string[] }
  | { op: "removeAll" }
  | { op: "replace"; ids: string[] };

export type PatchVerb = "add" | "replace" | "remove";

/** Member ids from a members value (array, or a single object), validated by the normaliser's rules. */
function memberIds(def: AttributeDef, value: unknown, quirks: string[]): string[] {
  const coerced = coerceValue(def, value, quirks, "members");
  if (!Array.isArray(coerced)) return [];
  return coerced.flatMap((m) => (isPlainObject(m) && typeof m.value === "string" ? [m.value] : []));
}

/**
 * Ids named by a members filter. Only `value eq "id"` (optionally joined with `or`) can be
 * answered without loading the membership, which is all Okta and Entra send (CONFORMANCE 86-87).
 */
function idsFromFilter(filter: Filter): string[] | undefined {
  if (filter.kind === "compare" && filter.op === "eq" && filter.path.attr === "value" && !filter.path.sub) {
    return typeof filter.value === "string" ? [filter.value] : undefined;
  }
  if (filter.kind === "or") {
    const left = idsFromFilter(filter.left);
    const right = idsFromFilter(filter.right);
    return left && right ? [...left, ...right] : undefined;
  }
  return undefined;
}

/**
 * One PATCH operation on `members` → the membership change it asks for (undefined: nothing to do).
 * `hasValue` tells an absent `value` from an explicit one: only a remove with no value list
 * removes every member.
 */
export function memberOperation(
  op: PatchVerb,
  target: PatchPath,
  value: unknown,
  hasValue: boolean,
  def: AttributeDef,
  quirks: string[],
): MemberOp | undefined {
  if (target.path.sub || target.subAfterFilter) {
    throw new ScimError(400, "invalidPath", 'Group members can only be changed as a whole or with members[value eq "<id>"].');
  }
  if (target.filter) {
    const ids = op === "remove" ? idsFromFilter(target.filter) : undefined;
    if (!ids) {
      throw new ScimError(
        400,
        "invalidPath",
        'Only remove supports a members filter, and only of the form members[value eq "<id>"] (joined with "or").',
      );
    }
    return { op: "remove", ids };
  }
  switch (op) {
    case "add": {
      const ids = memberIds(def, value, quirks);
      return ids.length > 0 ? { op: "add", ids } : undefined;
    }
    case "replace":
      return { op: "replace", ids: memberIds(def, value, quirks) };
    case "remove":
      // Old Entra form (CONFORMANCE §4 quirk 5): remove with a value list removes ONLY the listed
      // members, never everyone. An explicit empty list removes nobody.
      if (hasValue && (Array.isArray(value) || isPlainObject(value))) {
        addQuirk(quirks, "members removed by a value list (old Entra form)");
        const ids = isUnassigned(value) ? [] : memberIds(def, value, quirks);
        return ids.length > 0 ? { op: "remove", ids } : undefined;
      }
      return { op: "removeAll" };
  }
}
