/**
 * What a change to one resource does to the other kind (SPEC §5, §6, §9): a membership change
 * moves each member's version (its `groups` changed) and, for a mapped group, decides its members'
 * roles again; deleting a user is a membership change of each of its groups. Users and groups both
 * use this; neither imports the other. Every row it rewrites is compare-and-set (src/write/cas.ts),
 * so a decision made from a stale read never commits: the role is decided from the sources as
 * they are when the batch commits.
 */
import { type GroupRow, groupStateOf } from "../db/groups";
import { newJobId, startJobStatements } from "../db/jobs";
import { type UserRow, userStateOf } from "../db/users";
import { renderGroup } from "../resources/group";
import { renderSiteUser, type UserState } from "../resources/user";
import { decideUserRole, type RoleDecision } from "../roles/rules";
import { groupSource } from "../roles/sources";
import { type Cas, touchUsers, type UserStep, updateGroups, updateUsers } from "../write/cas";
import { type Change, eventStatement, type Statement, type WriteContext } from "../write/kernel";

/**
 * A mapped group's membership change decides the role of at most this many users in its own
 * batch; a bigger one (a PUT or first push of thousands of members, deleting the group) starts a
 * background re-evaluation instead (src/jobs/roles.ts), which visits every user in chunks.
 */
export const INLINE_ROLE_LIMIT = 100;

/** What role changes need: the database, the settings (gates, mapping) and the base URL. */
export type RoleContext = Pick<WriteContext, "db" | "settings" | "baseUrl">;

/** The user.role_changed event of a decided change, at the version the user's write gives it. */
export function roleChangedEvent(ctx: RoleContext, before: UserState, decision: RoleDecision, version: number, at: Date) {
  const after = { ...before, role: decision.role, version, updatedAt: at.toISOString() };
  return eventStatement(
    ctx,
    {
      type: "user.role_changed",
      resourceType: "User",
      resourceId: before.id,
      resourceVersion: version,
      data: {
        user: renderSiteUser(after, ctx.baseUrl),
        changes: { role: { from: before.role, to: after.role }, reason: decision.reason ?? null },
      },
    },
    at,
  );
}

export interface RoleInputs {
  /** Users the change may affect, at most INLINE_ROLE_LIMIT + 1 (more: too many to do inline). */
  users: UserRow[];
  /** Each user's memberships among the mapped role groups, as stored before this change. */
  roleMemberships: { userId: string; groupId: string }[];
  /** displayName of each mapped group, for the decisions' wording. */
  groupNames: Map<string, string>;
}

export interface MemberEffects extends Omit<Change, "claim"> {
  /** A background re-evaluation this batch starts; kick it once the batch has committed. */
  jobId?: string;
}

export const isRoleGroup = (ctx: RoleContext, groupId: string): boolean =>
  ctx.settings.moderatorGroup === groupId || ctx.settings.adminGroup === groupId;

/**
 * The members' side of a group's membership change: `changed` are the users whose membership of
 * the group it adds or removes (distinct). Each one's version moves in the same batch (a user
 * write that read it before fails its compare-and-set and reads again; an id that is no longer a
 * user fails this one). For a mapped group each is decided again from its userType, its roles and its
 * memberships after the change, compare-and-set on the version it was read at; more than
 * INLINE_ROLE_LIMIT of them start a background re-evaluation of everyone instead.
 */
export function memberEffects(
  ctx: WriteContext,
  group: { id: string; name: string },
  changed: readonly string[],
  isMemberAfter: (userId: string) => boolean,
  inputs: RoleInputs,
  at: Date,
): MemberEffects {
  const iso = at.toISOString();
  if (changed.length === 0) return { cas: [], statements: [], eventIds: [] };
  if (!isRoleGroup(ctx, group.id)) return { cas: [touchUsers(ctx.db, changed, iso)], statements: [], eventIds: [] };
  if (inputs.users.length > INLINE_ROLE_LIMIT) {
    const jobId = newJobId();
    ctx.log.decide(
      `more than ${INLINE_ROLE_LIMIT} members of mapped group ${group.name} changed: every role is re-evaluated in the background (${jobId})`,
    );
    const reason = `membership of mapped group ${group.name} changed`;
    return {
      cas: [touchUsers(ctx.db, changed, iso)],
      statements: [...startJobStatements(ctx.db, { id: jobId, kind: "roles", reason, actor: "SCIM", baseUrl: ctx.baseUrl }, iso)],
      eventIds: [],
      jobId,
    };
  }
  const wanted = new Set(changed);
  const steps: UserStep[] = [];
  const statements: Statement[] = [];
  const eventIds: string[] = [];
  for (const row of inputs.users.filter((u) => wanted.has(u.id))) {
    const before = userStateOf(row);
    const groupIds = inputs.roleMemberships.filter((m) => m.userId === row.id && m.groupId !== group.id).map((m) => m.groupId);
    if (isMemberAfter(row.id)) groupIds.push(group.id);
    const decision = decideUserRole(before, groupSource(groupIds, ctx.settings, inputs.groupNames), ctx.settings);
    if (decision.reason) ctx.log.decide(`${row.userName}: ${decision.reason}`);
    const next = before.version + 1;
    steps.push({ id: row.id, version: before.version, next, role: decision.role });
    if (!decision.changed) continue;
    const event = roleChangedEvent(ctx, before, decision, next, at);
    statements.push(event.statement);
    eventIds.push(event.id);
  }
  // A changed id that was not read is no user: the count guard fails the batch.
  const missing = changed.filter((id) => !steps.some((s) => s.id === id));
  const cas: Cas[] = [updateUsers(ctx.db, steps, iso), ...(missing.length ? [touchUsers(ctx.db, missing, iso)] : [])];
  return { cas, statements, eventIds };
}

/**
 * Deleting a user: group.members_removed for every group it was in, all the groups compare-and-set
 * in one statement from the versions they were read at to the next (a group changed meanwhile makes the deletion read
 * again, so the event never carries a stale name under a new version).
 */
export function groupsLeftByDeletedUser(ctx: WriteContext, userId: string, groupRows: readonly GroupRow[], at: Date): MemberEffects {
  const iso = at.toISOString();
  const statements: Statement[] = [];
  const eventIds: string[] = [];
  for (const row of groupRows) {
    const version = row.version + 1;
    const group = renderGroup({ ...groupStateOf(row), version, updatedAt: iso }, ctx.baseUrl);
    const event = eventStatement(
      ctx,
      {
        type: "group.members_removed",
        resourceType: "Group",
        resourceId: row.id,
        resourceVersion: version,
        data: { group, changes: { members: [userId], reason: "user deleted" } },
        // Held with the deletion when the guard holds it (src/events/hold.ts).
        cascadeOf: userId,
      },
      at,
    );
    statements.push(event.statement);
    eventIds.push(event.id);
  }
  // One statement however many groups the user was in, each from the version it was read at.
  return { cas: groupRows.length ? [updateGroups(ctx.db, groupRows, iso)] : [], statements, eventIds };
}
