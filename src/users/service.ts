import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { bumpGroupVersion, type GroupRow } from "../db/groups";
import { logStatement } from "../db/log";
import { casGuard, isCasConflict, isUniqueViolation } from "../db/sql";
import {
  deleteMembershipsOfUser,
  deleteUserCas,
  insertUser,
  rowToState,
  selectGroupRowsOfUser,
  selectUserById,
  type UserColumns,
  updateUserCas,
} from "../db/users";
import type { Bindings } from "../env";
import { newEventId, outboxInsert, sendCommitted, sendIfCommitted, stampQueued } from "../events/outbox";
import { groupState, renderGroup } from "../groups/view";
import type { Audit } from "../http/audit";
import { decideRole, groupSource, type RoleDecision, userTypeSource } from "../roles/rules";
import { ScimError } from "../scim/errors";
import { applyPatch } from "../scim/patch";
import { normalizeResource } from "../scim/resource";
import { USER_RESOURCE } from "../scim/schemas";
import { foldCase } from "../scim/text";
import type { Settings } from "../settings/model";
import { type PlannedEvent, plannedUserEvents } from "./events";
import { hashPassword } from "./password";
import { type GroupRef, renderUser, type UserState } from "./view";

/** Everything a user write needs from the request, with the I/O handles. */
export interface WriteContext {
  db: Db;
  env: Bindings;
  settings: Settings;
  baseUrl: string;
  audit: Audit;
  requestId: string;
  method: string;
  path: string;
  waitUntil: (p: Promise<unknown>) => void;
  /** The If-Match header, if any: a stale one is 412 and disables the conflict retry. */
  ifMatch: string | undefined;
  /** attributes/excludedAttributes was given: a Group PATCH then answers 200 with the resource. */
  wantsBody: boolean;
}

export interface UserResult {
  state: UserState;
  groups: GroupRef[];
}

/**
 * Compare-and-set attempts per request, with a random pause before each retry: writers that
 * collided spread out instead of colliding again. Ten parallel PATCHes to one user answered
 * 409 four times in ten with 3 immediate retries, and not once in 60 with these.
 */
const MAX_CAS_ATTEMPTS = 5;
const RETRY_JITTER_MS = 25;

function pauseBeforeRetry(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * RETRY_JITTER_MS * attempt));
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function primaryEmail(data: Record<string, unknown>): string | null {
  const emails = Array.isArray(data.emails) ? (data.emails as Record<string, unknown>[]) : [];
  const chosen = emails.find((e) => e.primary === true) ?? emails[0];
  const value = chosen ? str(chosen.value) : null;
  return value === null ? null : foldCase(value);
}

function columnsOf(data: Record<string, unknown>): UserColumns {
  const userName = str(data.userName);
  if (userName === null) throw new ScimError(400, "invalidValue", "userName is required and must be a non-empty string.");
  return {
    userName,
    userNameNorm: foldCase(userName),
    externalId: str(data.externalId),
    displayName: str(data.displayName),
    emailNorm: primaryEmail(data),
    userType: str(data.userType),
  };
}

/** Splits `active` (a column) from the rest of the stored data. */
function splitActive(data: Record<string, unknown>): { data: Record<string, unknown>; active: boolean | undefined } {
  const { active, ...rest } = data;
  return { data: rest, active: typeof active === "boolean" ? active : undefined };
}

function noteUserType(audit: Audit, before: Record<string, unknown> | null, after: Record<string, unknown>): void {
  const type = after.userType;
  if (typeof type !== "string" || (before !== null && before.userType === type)) return;
  if (userTypeSource(type).kind === "other") audit.decide(`userType "${type}" does not name a site role (Registered, Moderator or Admin)`);
}

/**
 * The role decision of a user write from the user's current sources (src/roles/rules.ts): the
 * userType being written and the groups the user is a member of now.
 */
function roleOf(ctx: WriteContext, current: UserState["role"], data: Record<string, unknown>, groups: readonly GroupRef[]): RoleDecision {
  const names = new Map(groups.map((g) => [g.value, g.display]));
  return decideRole(
    { current, userType: userTypeSource(data.userType), group: groupSource(names.keys(), ctx.settings, names) },
    ctx.settings,
  );
}

export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(",").map((t) => t.trim());
  if (tags.includes("*")) return;
  const current = `"${version}"`;
  if (!tags.some((t) => t.replace(/^W\//, "") === current)) {
    throw new ScimError(412, undefined, `The resource has changed (its version is W/${current}); GET it again and retry.`);
  }
}

/** One D1 batch: the change, its outbox rows (queued), its log row; then those events go on the queue. */
export async function commit(ctx: WriteContext, statements: BatchItem<"sqlite">[], eventIds: string[], status: number): Promise<void> {
  const { db } = ctx;
  const at = new Date().toISOString();
  // After the events, so the row can say whether the guard held any of them.
  const log = logStatement(db, {
    at,
    requestId: ctx.requestId,
    method: ctx.method,
    path: ctx.path,
    status,
    audit: ctx.audit,
    eventIds,
  });
  let results: readonly unknown[];
  const batch: BatchItem<"sqlite">[] = [...statements, log, stampQueued(db, eventIds, at)];
  try {
    results = await db.batch(batch as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  } catch (err) {
    // A conflict or a duplicate rolled the batch back for sure; anything else may have committed
    // with its answer lost, so look for this batch's events once and send those that exist.
    if (!isCasConflict(err) && !isUniqueViolation(err)) ctx.waitUntil(sendIfCommitted(db, ctx.env.EVENTS, eventIds));
    throw err;
  }
  ctx.audit.written = true;
  const queued = (results[results.length - 1] ?? []) as { id: string }[];
  ctx.waitUntil(
    sendCommitted(
      db,
      ctx.env.EVENTS,
      queued.map((r) => r.id),
    ),
  );
}

function eventStatements(ctx: WriteContext, state: UserState | null, id: string, firstVersion: number, planned: PlannedEvent[], at: Date) {
  const user = state ? renderUser(state, ctx.baseUrl) : undefined;
  const ids: string[] = [];
  const statements = planned.map((e, i) => {
    const eventId = newEventId();
    ids.push(eventId);
    return outboxInsert(
      ctx.db,
      {
        id: eventId,
        type: e.type,
        resourceType: "User",
        resourceId: id,
        resourceVersion: firstVersion + i,
        data: { user, changes: e.changes },
      },
      ctx.settings,
      at,
    );
  });
  return { statements, ids };
}

export async function createUser(ctx: WriteContext, body: unknown): Promise<UserResult> {
  const norm = normalizeResource(body, USER_RESOURCE);
  norm.quirks.forEach((q) => ctx.audit.quirk(q));
  const { data, active } = splitActive(norm.data);
  const cols = columnsOf(data);
  const at = new Date();
  const iso = at.toISOString();
  const id = crypto.randomUUID();
  noteUserType(ctx.audit, null, data);
  const decision = roleOf(ctx, "registered", data, []);
  if (decision.reason) ctx.audit.decide(decision.reason);
  const state: UserState = { id, data, active: active ?? true, role: decision.role, version: 1, createdAt: iso, updatedAt: iso };
  ctx.audit.touch("User", id);
  const passwordHash = norm.password !== undefined ? await hashPassword(norm.password) : null;
  const events = eventStatements(ctx, state, id, 1, plannedUserEvents(null, state), at);
  try {
    await commit(ctx, [insertUser(ctx.db, state, cols, passwordHash), ...events.statements], events.ids, 201);
  } catch (err) {
    if (isUniqueViolation(err, "user_name_norm")) {
      throw new ScimError(409, "uniqueness", `A user with userName "${cols.userName}" already exists (userName is case-insensitive).`);
    }
    throw err;
  }
  return { state, groups: [] };
}

interface Loaded {
  before: UserState;
  groupIds: string[];
  groups: GroupRef[];
  groupRows: GroupRow[];
}

async function load(ctx: WriteContext, id: string): Promise<Loaded> {
  const { db } = ctx;
  const [rows, memberships] = await db.batch([selectUserById(db, id), selectGroupRowsOfUser(db, id)]);
  const row = rows[0];
  if (!row) throw new ScimError(404, undefined, `User ${id} not found.`);
  ctx.audit.touch("User", id);
  const groupRows = memberships.map((m) => m.group);
  const groups = groupRows.map((g) => ({ value: g.id, display: g.displayName }));
  return { before: rowToState(row), groupIds: groups.map((g) => g.value), groups, groupRows };
}

/** Shared tail of PUT and PATCH: role decision, events, compare-and-set commit. */
async function update(
  ctx: WriteContext,
  loaded: Loaded,
  nextData: Record<string, unknown>,
  nextActive: boolean,
  password: string | undefined,
): Promise<UserResult> {
  const { before } = loaded;
  const cols = columnsOf(nextData);
  noteUserType(ctx.audit, before.data, nextData);
  const decision = roleOf(ctx, before.role, nextData, loaded.groups);
  // A reason exists whenever the sources ask for another role: changed, or kept because a
  // setting is off (said on every write until the sources and the role agree).
  if (decision.reason) ctx.audit.decide(decision.reason);
  const at = new Date();
  const draft: UserState = { ...before, data: nextData, active: nextActive, role: decision.role };
  const planned = plannedUserEvents(before, draft, decision.reason);
  const passwordHash = password !== undefined ? await hashPassword(password) : undefined;
  if (password !== undefined) ctx.audit.decide("password received; stored as a hash only");
  if (planned.length === 0 && passwordHash === undefined) {
    return { state: before, groups: loaded.groups };
  }
  // A password-only change writes no event and keeps the version.
  const after: UserState = { ...draft, version: before.version + planned.length, updatedAt: at.toISOString() };
  const events = eventStatements(ctx, after, before.id, before.version + 1, planned, at);
  try {
    await commit(
      ctx,
      [updateUserCas(ctx.db, after, cols, before.version, passwordHash), ctx.db.run(casGuard), ...events.statements],
      events.ids,
      200,
    );
  } catch (err) {
    if (isUniqueViolation(err, "user_name_norm")) {
      throw new ScimError(409, "uniqueness", `Another user already has userName "${cols.userName}" (userName is case-insensitive).`);
    }
    throw err;
  }
  return { state: after, groups: loaded.groups };
}

/**
 * Runs a read-modify-write with compare-and-set, re-reading and re-applying when another
 * writer got there first. With If-Match the client asked for its version: that is 412.
 */
async function withRetry(ctx: WriteContext, id: string, apply: (loaded: Loaded) => Promise<UserResult>): Promise<UserResult> {
  for (let attempt = 1; ; attempt++) {
    const loaded = await load(ctx, id);
    checkIfMatch(ctx.ifMatch, loaded.before.version);
    try {
      return await apply(loaded);
    } catch (err) {
      if (!isCasConflict(err) && !isUniqueViolation(err, "resource_version")) throw err;
      if (ctx.ifMatch !== undefined) {
        throw new ScimError(412, undefined, "The user changed while this request was applied; GET it again and retry.");
      }
      if (attempt >= MAX_CAS_ATTEMPTS) {
        throw new ScimError(409, undefined, "The user is being changed by concurrent requests; retry this request.");
      }
      ctx.audit.decide("retried after a concurrent change to the same user");
      await pauseBeforeRetry(attempt);
    }
  }
}

export async function replaceUser(ctx: WriteContext, id: string, body: unknown): Promise<UserResult> {
  const norm = normalizeResource(body, USER_RESOURCE);
  norm.quirks.forEach((q) => ctx.audit.quirk(q));
  const { data, active } = splitActive(norm.data);
  // An omitted `active` is not asserted: never silently reactivate or suspend (CONFORMANCE 55).
  return withRetry(ctx, id, (loaded) => update(ctx, loaded, data, active ?? loaded.before.active, norm.password));
}

export async function patchUser(ctx: WriteContext, id: string, body: unknown): Promise<UserResult> {
  return withRetry(ctx, id, async (loaded) => {
    const current = { ...loaded.before.data, active: loaded.before.active };
    const result = applyPatch(current, body, USER_RESOURCE, { id });
    result.quirks.forEach((q) => ctx.audit.quirk(q));
    const { data, active } = splitActive(result.data);
    return update(ctx, loaded, data, active ?? loaded.before.active, result.password);
  });
}

/** group.members_removed for every group a deleted user was in (each group's version moves by one). */
function leaveGroupsStatements(ctx: WriteContext, userId: string, groupRows: GroupRow[], at: Date) {
  const iso = at.toISOString();
  const ids: string[] = [];
  const statements = groupRows.flatMap((row) => {
    const eventId = newEventId();
    ids.push(eventId);
    const group = renderGroup({ ...groupState(row), version: row.version + 1, updatedAt: iso }, ctx.baseUrl);
    return [
      bumpGroupVersion(ctx.db, row.id, iso),
      outboxInsert(
        ctx.db,
        {
          id: eventId,
          type: "group.members_removed",
          resourceType: "Group",
          resourceId: row.id,
          resourceVersion: { belowCurrent: 0 },
          data: { group, changes: { members: [userId], reason: "user deleted" } },
          cascadeOf: userId,
        },
        ctx.settings,
        at,
      ),
    ];
  });
  return { statements, ids };
}

export async function deleteUser(ctx: WriteContext, id: string): Promise<void> {
  await withRetry(ctx, id, async (loaded) => {
    const { before } = loaded;
    const at = new Date();
    const events = eventStatements(ctx, before, id, before.version + 1, plannedUserEvents(before, null), at);
    // Leaving its groups is a membership change of each of them: the site hears it per group too.
    const left = leaveGroupsStatements(ctx, id, loaded.groupRows, at);
    await commit(
      ctx,
      [
        deleteUserCas(ctx.db, id, before.version),
        ctx.db.run(casGuard),
        deleteMembershipsOfUser(ctx.db, id),
        ...events.statements,
        ...left.statements,
      ],
      [...events.ids, ...left.ids],
      204,
    );
    return { state: before, groups: [] };
  });
}
