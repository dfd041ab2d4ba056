import type { BatchItem } from "drizzle-orm/batch";
import { casGuard } from "../db/sql";
import { rowToState, type UserRow, updateUserRoleCas } from "../db/users";
import { newEventId, outboxInsert } from "../events/outbox";
import { newJobId, startJobStatements } from "../jobs/store";
import { decideRole, groupSource, userTypeSource } from "../roles/rules";
import type { WriteContext } from "../users/service";
import { renderUser } from "../users/view";

/**
 * A mapped group's membership change decides the role of at most this many users in its own
 * batch; a bigger one (a PUT or first push of thousands of members, deleting the group) starts a
 * background re-evaluation instead (src/jobs/roles.ts), which visits every user in chunks.
 */
export const INLINE_ROLE_LIMIT = 100;

export interface RoleInputs {
  /** Users the change may affect, at most INLINE_ROLE_LIMIT + 1 (more: too many to do inline). */
  users: UserRow[];
  /** Each user's memberships among the mapped role groups, as stored before this change. */
  roleMemberships: { userId: string; groupId: string }[];
  /** displayName of each mapped group, for the decisions' wording. */
  groupNames: Map<string, string>;
}

export function isRoleGroup(ctx: WriteContext, groupId: string): boolean {
  return ctx.settings.moderatorGroup === groupId || ctx.settings.adminGroup === groupId;
}

export interface RoleStatements {
  statements: BatchItem<"sqlite">[];
  eventIds: string[];
  /** A background re-evaluation this batch starts; kick it once the batch has committed. */
  jobId?: string;
}

/**
 * The role side of a mapped group's change: the affected users' decisions in this batch, or,
 * when the read found more users than INLINE_ROLE_LIMIT, a background re-evaluation of
 * everyone started in this batch.
 */
export function rolesAfterMembershipChange(
  ctx: WriteContext,
  group: { id: string; name: string },
  isMemberAfter: (userId: string) => boolean,
  inputs: RoleInputs,
  affects: (userId: string) => boolean,
  at: Date,
): RoleStatements {
  if (inputs.users.length <= INLINE_ROLE_LIMIT) {
    const affected = { ...inputs, users: inputs.users.filter((u) => affects(u.id)) };
    return roleChangeStatements(ctx, group.id, isMemberAfter, affected, at);
  }
  const jobId = newJobId();
  ctx.audit.decide(
    `more than ${INLINE_ROLE_LIMIT} members of mapped group ${group.name} changed: every role is re-evaluated in the background (${jobId})`,
  );
  const statements = startJobStatements(
    ctx.db,
    { id: jobId, kind: "roles", reason: `membership of mapped group ${group.name} changed`, actor: "SCIM", baseUrl: ctx.baseUrl },
    at.toISOString(),
  );
  return { statements: [...statements], eventIds: [], jobId };
}

/**
 * Group-to-role mapping (SPEC §6): after a membership change of a mapped group, each affected
 * user's role is decided again from its current sources, under the same promotion settings.
 * Each change is a compare-and-set on the user plus a `user.role_changed` event, in the group's batch.
 */
function roleChangeStatements(
  ctx: WriteContext,
  groupId: string,
  isMemberAfter: (userId: string) => boolean,
  inputs: RoleInputs,
  at: Date,
): RoleStatements {
  const statements: BatchItem<"sqlite">[] = [];
  const eventIds: string[] = [];
  const iso = at.toISOString();
  for (const row of inputs.users) {
    const before = rowToState(row);
    const groupIds = inputs.roleMemberships.filter((m) => m.userId === row.id && m.groupId !== groupId).map((m) => m.groupId);
    if (isMemberAfter(row.id)) groupIds.push(groupId);
    const decision = decideRole(
      { current: before.role, userType: userTypeSource(row.userType), group: groupSource(groupIds, ctx.settings, inputs.groupNames) },
      ctx.settings,
    );
    if (decision.reason) ctx.audit.decide(`${row.userName}: ${decision.reason}`);
    if (!decision.changed) continue;
    const after = { ...before, role: decision.role, version: before.version + 1, updatedAt: iso };
    const eventId = newEventId();
    eventIds.push(eventId);
    statements.push(
      updateUserRoleCas(ctx.db, row.id, decision.role, before.version, iso),
      ctx.db.run(casGuard),
      outboxInsert(
        ctx.db,
        {
          id: eventId,
          type: "user.role_changed",
          resourceType: "User",
          resourceId: row.id,
          resourceVersion: after.version,
          data: {
            user: renderUser(after, ctx.baseUrl),
            changes: { role: { from: before.role, to: after.role }, reason: decision.reason ?? null },
          },
        },
        ctx.settings,
        at,
      ),
    );
  }
  return { statements, eventIds };
}
