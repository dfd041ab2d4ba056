/**
 * Group writes (SCIM POST, PUT, PATCH, DELETE): membership as set operations on rows, role
 * effects on the members of a mapped group, committed through the write kernel. They return what
 * happened; the routes choose the HTTP answer.
 */
import {
  addMembers,
  deleteAllMembers,
  groupStateOf,
  insertGroup,
  removeMembers,
  selectAllMemberIds,
  selectExistingUserIds,
  selectGroupById,
  selectGroupNames,
  selectMembersAmong,
  selectRoleMembershipsFor,
  selectUsersForRoles,
} from "../db/groups";
import type { EventType } from "../events/types";
import { kickJob } from "../jobs/runner";
import { INLINE_ROLE_LIMIT, isRoleGroup, type MemberEffects, memberEffects, type RoleInputs } from "../membership/effects";
import { type GroupState, groupColumns, groupName, renderGroup, splitMembers } from "../resources/group";
import { ScimError } from "../scim/errors";
import { applyPatch, type MemberOp } from "../scim/patch";
import { normalizeResource } from "../scim/resource";
import { GROUP_RESOURCE } from "../scim/schemas";
import { deleteGroup as deleteGroupRow, touchUsers, updateGroup } from "../write/cas";
import { commit, eventStatement, readModifyWrite, reloadSettings, retryOnConflict, type WriteContext } from "../write/kernel";
import { idsToAdd, membershipNeeds, netMembershipChange } from "./membership";

function unknownMembers(requested: readonly string[], existing: { id: string }[]): void {
  const found = new Set(existing.map((r) => r.id));
  const missing = requested.filter((id) => !found.has(id));
  if (missing.length) {
    const shown = missing
      .slice(0, 5)
      .map((id) => `"${id}"`)
      .join(", ");
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : "";
    throw new ScimError(400, "invalidValue", `No user with id ${shown}${more}; members must be existing Users.`);
  }
}

interface PlannedGroupEvent {
  type: EventType;
  changes: Record<string, unknown>;
}

/** The events of one group write: versions firstVersion, firstVersion + 1, ... (SPEC §9). */
function groupEvents(ctx: WriteContext, after: GroupState, planned: PlannedGroupEvent[], at: Date, firstVersion: number) {
  const group = renderGroup(after, ctx.baseUrl);
  return planned.map((e, i) =>
    eventStatement(
      ctx,
      {
        type: e.type,
        resourceType: "Group",
        resourceId: after.id,
        resourceVersion: firstVersion + i,
        data: { group, changes: e.changes },
      },
      at,
    ),
  );
}

export async function createGroup(ctx: WriteContext, body: unknown): Promise<GroupState> {
  const norm = normalizeResource(body, GROUP_RESOURCE);
  for (const q of norm.quirks) ctx.log.quirk(q);
  const { data, ids } = splitMembers(norm.data);
  const cols = groupColumns(data);
  const members = ids ?? [];
  const id = crypto.randomUUID();
  ctx.log.touch("Group", id);
  // A member deleted between the check and the commit fails the batch (its version cannot move):
  // read again, and the unknown id is a 400.
  const attempt = async () => {
    if (members.length) unknownMembers(members, await selectExistingUserIds(ctx.db, members));
    const at = new Date();
    const iso = at.toISOString();
    const state: GroupState = { id, data, version: 1, createdAt: iso, updatedAt: iso };
    const events = groupEvents(ctx, state, [{ type: "group.created", changes: { members } }], at, 1);
    await commit(ctx, {
      cas: members.length ? [touchUsers(ctx.db, members, iso)] : [],
      statements: [
        insertGroup(ctx.db, { id, ...cols, data: JSON.stringify(data), version: 1, createdAt: iso, updatedAt: iso }),
        ...(members.length ? [addMembers(ctx.db, id, members, iso)] : []),
        ...events.map((e) => e.statement),
      ],
      eventIds: events.map((e) => e.id),
    });
    return state;
  };
  return retryOnConflict(ctx, "group's members", attempt, undefined, () => reloadSettings(ctx));
}

/** Everything a change to one group needs to know, read in one D1 round trip. */
interface GroupFacts {
  before: GroupState;
  /** Current members among the ids involved (all members when the list is replaced or cleared). */
  current: Set<string>;
  existing: { id: string }[];
  roleInputs: RoleInputs;
}

/**
 * One batch: the group, the membership facts the operations need, which added ids are users,
 * and (for a mapped role group) the users whose role may change. `ops` can be known before the
 * group is read: membership operations depend only on the request body.
 */
async function readGroupFacts(ctx: WriteContext, id: string, ops: MemberOp[], deleting: boolean): Promise<GroupFacts> {
  const { db } = ctx;
  const needs = membershipNeeds(deleting ? [{ op: "removeAll" }] : ops);
  const toAdd = deleting ? [] : idsToAdd(ops);
  const allOf = needs.all ? id : null;
  const roleGroups = [ctx.settings.moderatorGroup, ctx.settings.adminGroup].filter((g): g is string => g !== null);
  const mapped = isRoleGroup(ctx, id);
  const readLimit = INLINE_ROLE_LIMIT + 1;
  const [rows, among, all, existing, users, roleMemberships, names] = await db.batch([
    selectGroupById(db, id),
    selectMembersAmong(db, id, needs.ids),
    needs.all ? selectAllMemberIds(db, id) : selectMembersAmong(db, id, []),
    selectExistingUserIds(db, toAdd),
    selectUsersForRoles(db, mapped ? needs.ids : [], mapped ? allOf : null, readLimit),
    selectRoleMembershipsFor(db, mapped ? needs.ids : [], mapped ? allOf : null, roleGroups, readLimit),
    selectGroupNames(db, mapped ? roleGroups : []),
  ]);
  const row = rows[0];
  if (!row) throw new ScimError(404, undefined, `Group ${id} not found.`);
  ctx.log.touch("Group", id);
  return {
    before: groupStateOf(row),
    current: new Set([...among, ...all].map((r) => r.userId)),
    existing,
    roleInputs: { users, roleMemberships, groupNames: new Map(names.map((g) => [g.id, g.displayName])) },
  };
}

/** A compare-and-set write of one group (its version moves with every change), re-read on a conflict. */
const writeGroup = <R>(ctx: WriteContext, load: () => Promise<GroupFacts>, apply: (facts: GroupFacts) => Promise<R>) =>
  readModifyWrite(ctx, { what: "group", load, version: (f) => f.before.version, apply });

/**
 * Shared by PATCH, PUT and DELETE: applies new metadata and membership operations in one write
 * batch. Membership changes are set operations on rows (INSERT OR IGNORE / DELETE), so
 * concurrent PATCHes never lose a member, and cost the same for 1 or 10,000 members.
 * `nextData` null deletes the group.
 */
async function applyGroupChange(
  ctx: WriteContext,
  facts: GroupFacts,
  nextData: Record<string, unknown> | null,
  ops: MemberOp[],
): Promise<GroupState> {
  const { db } = ctx;
  const { before, current, roleInputs } = facts;
  if (nextData !== null) unknownMembers(idsToAdd(ops), facts.existing);
  const change = nextData === null ? { added: [], removed: [...current] } : netMembershipChange(current, ops);
  const at = new Date();
  const iso = at.toISOString();

  if (nextData === null) {
    const events = groupEvents(ctx, before, [{ type: "group.deleted", changes: { members: change.removed } }], at, before.version + 1);
    const members = memberEffects(ctx, { id: before.id, name: groupName(before) }, change.removed, () => false, roleInputs, at);
    await commit(ctx, {
      cas: [deleteGroupRow(db, before), ...members.cas],
      statements: [deleteAllMembers(db, before.id), ...events.map((e) => e.statement), ...members.statements],
      eventIds: [...events.map((e) => e.id), ...members.eventIds],
    });
    kickRoleJob(ctx, members);
    return before;
  }

  const planned: PlannedGroupEvent[] = [];
  if (JSON.stringify(before.data) !== JSON.stringify(nextData))
    planned.push({ type: "group.updated", changes: { attributes: changedKeys(before.data, nextData) } });
  if (change.added.length) planned.push({ type: "group.members_added", changes: { members: change.added } });
  if (change.removed.length) planned.push({ type: "group.members_removed", changes: { members: change.removed } });
  if (planned.length === 0) return before;

  const cols = groupColumns(nextData);
  const after: GroupState = { ...before, data: nextData, version: before.version + planned.length, updatedAt: iso };
  const events = groupEvents(ctx, after, planned, at, before.version + 1);
  const addedSet = new Set(change.added);
  const members = memberEffects(
    ctx,
    { id: after.id, name: groupName(after) },
    [...change.added, ...change.removed],
    (uid) => addedSet.has(uid),
    roleInputs,
    at,
  );
  await commit(ctx, {
    cas: [updateGroup(db, before, after.version, { ...cols, data: JSON.stringify(nextData), updatedAt: iso }), ...members.cas],
    statements: [
      ...(change.removed.length ? [removeMembers(db, before.id, change.removed)] : []),
      ...(change.added.length ? [addMembers(db, before.id, change.added, iso)] : []),
      ...events.map((e) => e.statement),
      ...members.statements,
    ],
    eventIds: [...events.map((e) => e.id), ...members.eventIds],
  });
  kickRoleJob(ctx, members);
  return after;
}

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

function kickRoleJob(ctx: WriteContext, roles: MemberEffects): void {
  if (roles.jobId) ctx.waitUntil(kickJob(ctx.queue, { id: roles.jobId, kind: "roles" }));
}

/** The membership operations of a PATCH body; they do not depend on the group's current data. */
function memberOpsOf(body: unknown, id: string): MemberOp[] {
  try {
    return applyPatch({ displayName: "-" }, body, GROUP_RESOURCE, { id }).memberOps;
  } catch {
    return []; // the real application below reports the error
  }
}

export async function patchGroup(ctx: WriteContext, id: string, body: unknown): Promise<GroupState> {
  const ops = memberOpsOf(body, id);
  return writeGroup(
    ctx,
    () => readGroupFacts(ctx, id, ops, false),
    async (first) => {
      const result = applyPatch({ ...first.before.data }, body, GROUP_RESOURCE, { id });
      for (const q of result.quirks) ctx.log.quirk(q);
      // Never expected: the operations read first were not the ones applied; read for these.
      const facts =
        JSON.stringify(result.memberOps) === JSON.stringify(ops) ? first : await readGroupFacts(ctx, id, result.memberOps, false);
      return applyGroupChange(ctx, facts, splitMembers(result.data).data, result.memberOps);
    },
  );
}

export async function replaceGroup(ctx: WriteContext, id: string, body: unknown): Promise<GroupState> {
  const norm = normalizeResource(body, GROUP_RESOURCE);
  for (const q of norm.quirks) ctx.log.quirk(q);
  const { data, ids } = splitMembers(norm.data);
  // PUT without a members key keeps the membership: clearing a 10,000-member group because an
  // IdP left the key out would be far worse than not clearing it. `members: []` does clear it.
  if (ids === undefined) ctx.log.decide("members not sent on PUT; membership kept");
  const ops: MemberOp[] = ids === undefined ? [] : [{ op: "replace", ids }];
  return writeGroup(
    ctx,
    () => readGroupFacts(ctx, id, ops, false),
    (facts) => applyGroupChange(ctx, facts, data, ops),
  );
}

export async function deleteGroup(ctx: WriteContext, id: string): Promise<void> {
  await writeGroup(
    ctx,
    () => readGroupFacts(ctx, id, [], true),
    (facts) => applyGroupChange(ctx, facts, null, []),
  );
}
