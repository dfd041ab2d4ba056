/**
 * User writes (SCIM POST, PUT, PATCH, DELETE): decide, then commit through the write kernel.
 * They return what happened; the routes choose the HTTP answer.
 */
import type { GroupRow } from "../db/groups";
import {
  deleteMembershipsOfUser,
  insertUser,
  selectGroupRowsOfUser,
  selectUserById,
  userNameFree,
  userSet,
  userStateOf,
} from "../db/users";
import { groupsLeftByDeletedUser } from "../membership/effects";
import { type GroupRef, renderSiteUser, splitActive, type UserState, userColumns } from "../resources/user";
import { decideUserRole, type RoleDecision } from "../roles/rules";
import { groupSource, rolesNamingNothing, userTypeSource, writesRoles } from "../roles/sources";
import { ScimError } from "../scim/errors";
import { applyPatch } from "../scim/patch";
import { normalizeResource } from "../scim/resource";
import { USER_RESOURCE } from "../scim/schemas";
import { deleteUser as deleteUserRow, updateUser } from "../write/cas";
import { type Change, commit, eventStatement, readModifyWrite, type WriteContext } from "../write/kernel";
import { type PlannedEvent, plannedUserEvents } from "./events";
import { hashPassword } from "./password";

export interface UserResult {
  state: UserState;
  groups: GroupRef[];
}

/** Role sources that name no role, said once when written: the request succeeds, the log says why nothing follows. */
function noteSources(ctx: WriteContext, before: Record<string, unknown> | null, after: Record<string, unknown>): void {
  const type = after.userType;
  if (typeof type === "string" && (before === null || before.userType !== type) && userTypeSource(type).kind === "other")
    ctx.log.decide(`userType "${type}" does not name a site role (Registered, Moderator or Admin)`);
  if (before !== null && JSON.stringify(before.roles) === JSON.stringify(after.roles)) return;
  const other = rolesNamingNothing(after.roles);
  if (other.length) {
    const names = other.map((n) => JSON.stringify(n)).join(", ");
    ctx.log.decide(
      `roles ${names} kept as sent; ${other.length === 1 ? "it names" : "they name"} no site role (Registered, Moderator or Admin)`,
    );
  }
}

/**
 * The role decision of a user write from the user's current sources (src/roles/rules.ts): the
 * userType and roles being written and the groups the user is a member of now. `user` is the
 * user as it will be stored, its role still the current one.
 */
function roleOf(ctx: WriteContext, user: Pick<UserState, "role" | "data" | "rolesManaged">, groups: readonly GroupRef[]): RoleDecision {
  const names = new Map(groups.map((g) => [g.value, g.display]));
  return decideUserRole(user, groupSource(names.keys(), ctx.settings, names), ctx.settings);
}

/** The outbox events of one user write: versions before.version + 1, + 2, ... (SPEC §9). */
function userEvents(ctx: WriteContext, state: UserState, firstVersion: number, planned: PlannedEvent[], at: Date) {
  const user = renderSiteUser(state, ctx.baseUrl);
  return planned.map((e, i) =>
    eventStatement(
      ctx,
      { type: e.type, resourceType: "User", resourceId: state.id, resourceVersion: firstVersion + i, data: { user, changes: e.changes } },
      at,
    ),
  );
}

/** The change's claim on its folded userName: a clash is 409 `uniqueness` (found by a read, not by D1's error text). */
function userNameClaim(ctx: WriteContext, id: string, cols: { userName: string; userNameNorm: string }): Change["claim"] {
  return {
    check: userNameFree(ctx.db, id, cols.userNameNorm),
    error: () => new ScimError(409, "uniqueness", `A user with userName "${cols.userName}" already exists (userName is case-insensitive).`),
  };
}

export async function createUser(ctx: WriteContext, body: unknown): Promise<UserResult> {
  const norm = normalizeResource(body, USER_RESOURCE);
  for (const q of norm.quirks) ctx.log.quirk(q);
  const { data, active } = splitActive(norm.data);
  const cols = userColumns(data);
  const at = new Date();
  const iso = at.toISOString();
  const id = crypto.randomUUID();
  noteSources(ctx, null, data);
  const rolesManaged = writesRoles(data);
  const decision = roleOf(ctx, { role: "registered", data, rolesManaged }, []);
  if (decision.reason) ctx.log.decide(decision.reason);
  const state: UserState = {
    id,
    data,
    active: active ?? true,
    role: decision.role,
    rolesManaged,
    version: 1,
    createdAt: iso,
    updatedAt: iso,
  };
  ctx.log.touch("User", id);
  const passwordHash = norm.password !== undefined ? await hashPassword(norm.password) : null;
  const events = userEvents(ctx, state, 1, plannedUserEvents(null, state), at);
  await commit(ctx, {
    cas: [],
    statements: [insertUser(ctx.db, state, cols, passwordHash), ...events.map((e) => e.statement)],
    eventIds: events.map((e) => e.id),
    claim: userNameClaim(ctx, id, cols),
  });
  return { state, groups: [] };
}

interface Loaded {
  before: UserState;
  groups: GroupRef[];
  groupRows: GroupRow[];
}

async function load(ctx: WriteContext, id: string): Promise<Loaded> {
  const [rows, memberships] = await ctx.db.batch([selectUserById(ctx.db, id), selectGroupRowsOfUser(ctx.db, id)]);
  const row = rows[0];
  if (!row) throw new ScimError(404, undefined, `User ${id} not found.`);
  ctx.log.touch("User", id);
  const groupRows = memberships.map((m) => m.group);
  return { before: userStateOf(row), groups: groupRows.map((g) => ({ value: g.id, display: g.displayName })), groupRows };
}

/** A compare-and-set write of one user, re-read and re-applied on a concurrent change. */
const writeUser = <R>(ctx: WriteContext, id: string, apply: (loaded: Loaded) => Promise<R>) =>
  readModifyWrite(ctx, { what: "user", load: () => load(ctx, id), version: (l) => l.before.version, apply });

/** Shared tail of PUT and PATCH: role decision, events, compare-and-set commit. */
async function update(
  ctx: WriteContext,
  loaded: Loaded,
  nextData: Record<string, unknown>,
  nextActive: boolean,
  password: string | undefined,
): Promise<UserResult> {
  const { before } = loaded;
  const cols = userColumns(nextData, before.data);
  noteSources(ctx, before.data, nextData);
  const rolesManaged = before.rolesManaged || writesRoles(nextData);
  const decision = roleOf(ctx, { role: before.role, data: nextData, rolesManaged }, loaded.groups);
  // A reason exists whenever the sources ask for another role: changed, or kept because a
  // setting is off (said on every write until the sources and the role agree).
  if (decision.reason) ctx.log.decide(decision.reason);
  const at = new Date();
  const draft: UserState = { ...before, data: nextData, active: nextActive, role: decision.role, rolesManaged };
  const planned = plannedUserEvents(before, draft, decision.reason);
  const passwordHash = password !== undefined ? await hashPassword(password) : undefined;
  if (password !== undefined) ctx.log.decide("password received; stored as a hash only");
  // The roles an IdP wrote are not the site's (it gets the role they decide): a change of them
  // alone writes no event, but moves the version, so the ETag tells the IdP its resource changed.
  const rolesOnly = planned.length === 0 && JSON.stringify(before.data.roles) !== JSON.stringify(nextData.roles);
  if (planned.length === 0 && passwordHash === undefined && !rolesOnly) return { state: before, groups: loaded.groups };
  // A password-only change writes no event and keeps the version.
  const after: UserState = { ...draft, version: before.version + (rolesOnly ? 1 : planned.length), updatedAt: at.toISOString() };
  const events = userEvents(ctx, after, before.version + 1, planned, at);
  await commit(ctx, {
    cas: [updateUser(ctx.db, before, after.version, userSet(after, cols, passwordHash))],
    statements: events.map((e) => e.statement),
    eventIds: events.map((e) => e.id),
    claim: userNameClaim(ctx, before.id, cols),
  });
  return { state: after, groups: loaded.groups };
}

export async function replaceUser(ctx: WriteContext, id: string, body: unknown): Promise<UserResult> {
  const norm = normalizeResource(body, USER_RESOURCE);
  for (const q of norm.quirks) ctx.log.quirk(q);
  const { data, active } = splitActive(norm.data);
  // An omitted `active` is not asserted: never silently reactivate or suspend (CONFORMANCE 55).
  return writeUser(ctx, id, (loaded) => update(ctx, loaded, data, active ?? loaded.before.active, norm.password));
}

export async function patchUser(ctx: WriteContext, id: string, body: unknown): Promise<UserResult> {
  return writeUser(ctx, id, async (loaded) => {
    const current = { ...loaded.before.data, active: loaded.before.active };
    const result = applyPatch(current, body, USER_RESOURCE, { id });
    for (const q of result.quirks) ctx.log.quirk(q);
    const { data, active } = splitActive(result.data);
    return update(ctx, loaded, data, active ?? loaded.before.active, result.password);
  });
}

export async function deleteUser(ctx: WriteContext, id: string): Promise<void> {
  await writeUser(ctx, id, async ({ before, groupRows }) => {
    const at = new Date();
    const events = userEvents(ctx, before, before.version + 1, plannedUserEvents(before, null), at);
    // Leaving its groups is a membership change of each of them: the site hears it per group too.
    const left = groupsLeftByDeletedUser(ctx, id, groupRows, at);
    await commit(ctx, {
      cas: [deleteUserRow(ctx.db, before), ...left.cas],
      statements: [deleteMembershipsOfUser(ctx.db, id), ...events.map((e) => e.statement), ...left.statements],
      eventIds: [...events.map((e) => e.id), ...left.eventIds],
    });
  });
}
