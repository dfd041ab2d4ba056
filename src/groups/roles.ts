import type { BatchItem } from "drizzle-orm/batch";
import { casGuard } from "../db/sql";
import { rowToState, type UserRow, updateUserRoleCas } from "../db/users";
import { newEventId, outboxInsert } from "../events/outbox";
import { decideRole, roleFromGroups } from "../roles/rules";
import type { WriteContext } from "../users/service";
import { renderUser } from "../users/view";

export interface RoleInputs {
  users: UserRow[];
  /** Each user's memberships among the mapped role groups, as stored before this change. */
  roleMemberships: { userId: string; groupId: string }[];
}

export function isRoleGroup(ctx: WriteContext, groupId: string): boolean {
  return ctx.settings.moderatorGroup === groupId || ctx.settings.adminGroup === groupId;
}

/**
 * Group-to-role mapping (SPEC §6): after a membership change of a mapped group, each affected
 * user's role is decided again from every source, under the same promotion settings. Each
 * change is a compare-and-set on the user plus a `user.role_changed` event, in the group's batch.
 */
export function roleChangeStatements(
  ctx: WriteContext,
  groupId: string,
  isMemberAfter: (userId: string) => boolean,
  inputs: RoleInputs,
  at: Date,
): { statements: BatchItem<"sqlite">[]; eventIds: string[] } {
  const statements: BatchItem<"sqlite">[] = [];
  const eventIds: string[] = [];
  const iso = at.toISOString();
  for (const row of inputs.users) {
    const before = rowToState(row);
    const groupIds = inputs.roleMemberships.filter((m) => m.userId === row.id && m.groupId !== groupId).map((m) => m.groupId);
    if (isMemberAfter(row.id)) groupIds.push(groupId);
    const groupRole = roleFromGroups(groupIds, ctx.settings);
    const decision = decideRole({ current: before.role, typeRole: before.typeRole, groupRole }, ctx.settings);
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
