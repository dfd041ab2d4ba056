import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admin, createUser, expectStatus, type Json, oktaUser, ops, scim, settleJobs, uniqueName } from "../helpers";

/**
 * Model-based test of the role rules (README "Roles: the rules"; SPEC §5, §6): random sequences
 * of what an IdP and an admin do, driven against the Worker with the real D1, and after every
 * step each user's role compared with a small reference model of the rules table. Settings
 * changes re-evaluate in the background; the test runs those jobs to their end (settleJobs)
 * before comparing, as the queue would a few seconds later.
 */

type Role = "registered" | "moderator" | "admin";
type Kind = "moderator" | "admin";
const RANK: Record<Role, number> = { registered: 0, moderator: 1, admin: 2 };
const USER_TYPES = ["Admin", "Moderator", "Registered", "Employee", "admin", null] as const;

interface Model {
  users: { userType: string | null; groups: Set<Kind>; role: Role }[];
  mapped: Record<Kind, boolean>;
  allow: Record<Kind, boolean>;
}

interface Real {
  userIds: string[];
  groupIds: Record<Kind, string>;
}

/** The rules table, written out again: the wanted role of one user, or undefined to keep it. */
function wanted(m: Model, u: Model["users"][number]): Role | undefined {
  const named =
    typeof u.userType === "string" && ["registered", "moderator", "admin"].includes(u.userType.toLowerCase())
      ? (u.userType.toLowerCase() as Role)
      : undefined;
  const anyMapped = m.mapped.moderator || m.mapped.admin;
  const group: Role | undefined = !anyMapped
    ? undefined
    : m.mapped.admin && u.groups.has("admin")
      ? "admin"
      : m.mapped.moderator && u.groups.has("moderator")
        ? "moderator"
        : "registered";
  if (named && group) return RANK[named] >= RANK[group] ? named : group;
  if (named || group) return named ?? group;
  return u.userType === null ? "registered" : undefined;
}

/** The gate: a change touching admin needs allowAdminPromotion, any other allowModeratorPromotion. */
function decide(m: Model, u: Model["users"][number]): void {
  const w = wanted(m, u);
  if (w === undefined || w === u.role) return;
  const allowed = u.role === "admin" || w === "admin" ? m.allow.admin : m.allow.moderator;
  if (allowed) u.role = w;
}

async function check(m: Model, r: Real): Promise<void> {
  for (const [i, id] of r.userIds.entries()) {
    const user = await expectStatus(await scim("GET", `/Users/${id}`), 200);
    expect((user.roles as Json[])[0]?.value, `user ${i}`).toBe(m.users[i]?.role);
  }
}

class SetUserType implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly value: string | null,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const id = r.userIds[this.user] ?? "";
    const op = this.value === null ? { op: "remove", path: "userType" } : { op: "replace", path: "userType", value: this.value };
    await expectStatus(await scim("PATCH", `/Users/${id}`, ops(op)), 200);
    const u = m.users[this.user];
    if (!u) return;
    u.userType = this.value;
    decide(m, u);
    await check(m, r);
  }
  toString = () => `userType(${this.user}, ${JSON.stringify(this.value)})`;
}

/** An unrelated change (sequence 1 of the issue: a title after the sources changed). */
class Touch implements fc.AsyncCommand<Model, Real> {
  constructor(readonly user: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await expectStatus(
      await scim("PATCH", `/Users/${r.userIds[this.user] ?? ""}`, ops({ op: "replace", path: "title", value: uniqueName("T") })),
      200,
    );
    const u = m.users[this.user];
    if (u) decide(m, u);
    await check(m, r);
  }
  toString = () => `title(${this.user})`;
}

class Membership implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly group: Kind,
    readonly join: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const id = r.userIds[this.user] ?? "";
    const op = this.join ? { op: "add", path: "members", value: [{ value: id }] } : { op: "remove", path: `members[value eq "${id}"]` };
    const res = await scim("PATCH", `/Groups/${r.groupIds[this.group]}`, ops(op));
    expect(res.status, await res.clone().text()).toBe(204);
    const u = m.users[this.user];
    if (!u) return;
    if (this.join) u.groups.add(this.group);
    else u.groups.delete(this.group);
    decide(m, u);
    await check(m, r);
  }
  toString = () => `${this.join ? "join" : "leave"}(${this.user}, ${this.group})`;
}

class Setting implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly what: "map" | "allow",
    readonly kind: Kind,
    readonly on: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const body =
      this.what === "map"
        ? { [this.kind === "admin" ? "adminGroup" : "moderatorGroup"]: this.on ? r.groupIds[this.kind] : null }
        : { [this.kind === "admin" ? "allowAdminPromotion" : "allowModeratorPromotion"]: this.on };
    await expectStatus(await admin("PUT", "/settings", body), 200);
    await settleJobs();
    const before = this.what === "map" ? m.mapped[this.kind] : m.allow[this.kind];
    if (this.what === "map") m.mapped[this.kind] = this.on;
    else m.allow[this.kind] = this.on;
    // Mapping, unmapping or turning a promotion on re-evaluates everyone; turning one off does not.
    if (before !== this.on && (this.what === "map" || this.on)) for (const u of m.users) decide(m, u);
    await check(m, r);
  }
  toString = () => `${this.what}(${this.kind}, ${this.on})`;
}

const USERS = 3;
const commands = [
  fc.tuple(fc.integer({ min: 0, max: USERS - 1 }), fc.constantFrom(...USER_TYPES)).map(([u, v]) => new SetUserType(u, v)),
  fc.integer({ min: 0, max: USERS - 1 }).map((u) => new Touch(u)),
  fc
    .tuple(fc.integer({ min: 0, max: USERS - 1 }), fc.constantFrom<Kind>("moderator", "admin"), fc.boolean())
    .map(([u, g, j]) => new Membership(u, g, j)),
  fc
    .tuple(fc.constantFrom<"map" | "allow">("map", "allow"), fc.constantFrom<Kind>("moderator", "admin"), fc.boolean())
    .map(([w, k, on]) => new Setting(w, k, on)),
];

describe("roles follow the current sources: model-based (fast-check commands)", () => {
  it("after every step, every user's role is what the rules table says", { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        await expectStatus(
          await admin("PUT", "/settings", {
            scimEnabled: true,
            moderatorGroup: null,
            adminGroup: null,
            allowModeratorPromotion: false,
            allowAdminPromotion: false,
          }),
          200,
        );
        await settleJobs();
        const userIds = await Promise.all(
          Array.from({ length: USERS }, async () => (await createUser(oktaUser(uniqueName("M")))).id as string),
        );
        const group = async (name: string) =>
          (await expectStatus(await scim("POST", "/Groups", { displayName: uniqueName(name) }), 201)).id as string;
        const real: Real = { userIds, groupIds: { moderator: await group("Mods"), admin: await group("Admins") } };
        const model: Model = {
          users: userIds.map(() => ({ userType: null, groups: new Set<Kind>(), role: "registered" as Role })),
          mapped: { moderator: false, admin: false },
          allow: { moderator: false, admin: false },
        };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 60 },
    );
  });

  it("finds nothing wrong with the issue's sequence 1 (as a fixed sequence of the same commands)", { timeout: 60_000 }, async () => {
    await expectStatus(
      await admin("PUT", "/settings", {
        moderatorGroup: null,
        adminGroup: null,
        allowModeratorPromotion: false,
        allowAdminPromotion: false,
      }),
      200,
    );
    await settleJobs();
    const userIds = [(await createUser(oktaUser(uniqueName("S")))).id as string];
    const group = async (name: string) =>
      (await expectStatus(await scim("POST", "/Groups", { displayName: uniqueName(name) }), 201)).id as string;
    const real: Real = { userIds, groupIds: { moderator: await group("Mods"), admin: await group("Admins") } };
    const model: Model = {
      users: [{ userType: null, groups: new Set(), role: "registered" }],
      mapped: { moderator: false, admin: false },
      allow: { moderator: false, admin: false },
    };
    for (const cmd of [new SetUserType(0, "Admin"), new SetUserType(0, null), new Setting("allow", "admin", true), new Touch(0)])
      await cmd.run(model, real);
    expect(model.users[0]?.role).toBe("registered");
  });
});
