/**
 * What a change to one resource does to the other kind (SPEC §5, §6, §9): a membership change of
 * a mapped group decides its members' roles again; deleting a user is a membership change of each
 * of its groups. Users and groups both use this; neither imports the other.
 */
import { bumpGroupVersion, type GroupRow, groupStateOf } from "../db/groups";
import { newJobId, startJobStatements } from "../db/jobs";
import { casGuard } from "../db/sql";
import { type UserRow, updateUserRoleCas, userStateOf } from "../db/users";
import { renderGroup } from "../resources/group";
import { renderUser, type UserState } from "../resources/user";
import { decideRole, groupSource, type RoleDecision, userTypeSource } from "../roles/rules";
import { type Change, eventStatement, type Statement, type WriteContext } from "../write/kernel";

/**
 * A mapped group's membership change decides the role of at most this many users in its own
 * batch; a bigger one (a PUT or first push of thousands of members, deleting the group) starts a
 * background re-evaluation instead (src/jobs/roles.ts), which visits every user in chunks.
 */
export const INLINE_ROLE_LIMIT = 100;

/** What role changes need: the database, the settings (gates, mapping) and the base URL. */
export type RoleContext = Pick<WriteContext, "db" | "settings" | "baseUrl">;

/** A decided role change of one user: its compare-and-set, and its user.role_changed event. */
export function roleChange(
  ctx: RoleContext,
  before: UserState,
  decision: RoleDecision,
  at: Date,
): { statements: Statement[]; eventId: string } {
  const after = { ...before, role: decision.role, version: before.version + 1, updatedAt: at.toISOString() };
  const event = eventStatement(
    ctx,
    {
      type: "user.role_changed",
      resourceType: "User",
      resourceId: before.id,
      resourceVersion: after.version,
      data: {
        user: renderUser(after, ctx.baseUrl),
        changes: { role: { from: before.role, to: after.role }, reason: decision.reason ?? null },
      },
    },
    at,
  );
  return {
    statements: [
      updateUserRoleCas(ctx.db, before.id, decision.role, before.version, after.updatedAt),
      ctx.db.run(casGuard),
      event.statement,
    ],
    eventId: event.id,
  };
}

export interface RoleInputs {
  /** Users the change may affect, at most INLINE_ROLE_LIMIT + 1 (more: too many to do inline). */
  users: UserRow[];
  /** Each user's memberships among the mapped role groups, as stored before this change. */
  roleMemberships: { userId: string; groupId: string }[];
  /** displayName of each mapped group, for the decisions' wording. */
  groupNames: Map<string, string>;
}

export interface RoleChanges extends Change {
  /** A background re-evaluation this batch starts; kick it once the batch has committed. */
  jobId?: string;
}

export const isRoleGroup = (ctx: RoleContext, groupId: string): boolean =>
  ctx.settings.moderatorGroup === groupId || ctx.settings.adminGroup === groupId;

/**
 * The role side of a mapped group's change: the affected users' decisions in this batch, or,
 * when the read found more users than INLINE_ROLE_LIMIT, a background re-evaluation of everyone
 * started in this batch.
 */
export function rolesAfterMembershipChange(
  ctx: WriteContext,
  group: { id: string; name: string },
  isMemberAfter: (userId: string) => boolean,
  inputs: RoleInputs,
  affects: (userId: string) => boolean,
  at: Date,
): RoleChanges {
  if (inputs.users.length > INLINE_ROLE_LIMIT) {
    const jobId = newJobId();
    ctx.log.decide(
      `more than ${INLINE_ROLE_LIMIT} members of mapped group ${group.name} changed: every role is re-evaluated in the background (${jobId})`,
    );
    const reason = `membership of mapped group ${group.name} changed`;
    return {
      statements: [
        ...startJobStatements(ctx.db, { id: jobId, kind: "roles", reason, actor: "SCIM", baseUrl: ctx.baseUrl }, at.toISOString()),
      ],
      eventIds: [],
      jobId,
    };
  }
  const statements: Statement[] = [];
  const eventIds: string[] = [];
  for (const row of inputs.users.filter((u) => affects(u.id))) {
    const before = userStateOf(row);
    const groupIds = inputs.roleMemberships.filter((m) => m.userId === row.id && m.groupId !== group.id).map((m) => m.groupId);
    if (isMemberAfter(row.id)) groupIds.push(group.id);
    const decision = decideRole(
      { current: before.role, userType: userTypeSource(row.userType), group: groupSource(groupIds, ctx.settings, inputs.groupNames) },
      ctx.settings,
    );
    if (decision.reason) ctx.log.decide(`${row.userName}: ${decision.reason}`);
    if (!decision.changed) continue;
    const change = roleChange(ctx, before, decision, at);
    statements.push(...change.statements);
    eventIds.push(change.eventId);
  }
  return { statements, eventIds };
}

/** Deleting a user: group.members_removed for every group it was in (each group's version moves by one). */
export function groupsLeftByDeletedUser(ctx: WriteContext, userId: string, groupRows: readonly GroupRow[], at: Date): Change {
  const iso = at.toISOString();
  const statements: Statement[] = [];
  const eventIds: string[] = [];
  for (const row of groupRows) {
    const group = renderGroup({ ...groupStateOf(row), version: row.version + 1, updatedAt: iso }, ctx.baseUrl);
    const event = eventStatement(
      ctx,
      {
        type: "group.members_removed",
        resourceType: "Group",
        resourceId: row.id,
        resourceVersion: { belowCurrent: 0 },
        data: { group, changes: { members: [userId], reason: "user deleted" } },
        // Held with the deletion when the guard holds it (src/events/hold.ts).
        cascadeOf: userId,
      },
      at,
    );
    statements.push(bumpGroupVersion(ctx.db, row.id, iso), event.statement);
    eventIds.push(event.id);
  }
  return { statements, eventIds };
}
