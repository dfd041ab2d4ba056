import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admin, createUser, expectStatus, oktaUser, ops, scim, settleJobs, siteRole, uniqueName } from "../helpers";

/**
 * Model-based test of the role rules (README "Roles: the rules"; SPEC §5, §6): random sequences
 * of what an IdP and an admin do, driven against the Worker with the real D1, and after every
 * step each user's role compared with a small reference model of the rules table, and the
 * `roles` each user reads back compared with what was written (Entra compares them every cycle).
 * Settings changes re-evaluate in the background; the test runs those jobs to their end
 * (settleJobs) before comparing, as the queue would a few seconds later.
 */

type Role = "registered" | "moderator" | "admin";
type Kind = "moderator" | "admin";
const RANK: Record<Role, number> = { registered: 0, moderator: 1, admin: 2 };
const USER_TYPES = ["Admin", "Moderator", "Registered", "Employee", "admin", null] as const;

/** One `roles` entry in the shapes IdPs send: Entra's app role, Okta's entitlement, a display-only one. */
type Entry = Record<string, unknown>;
const entra = (value: string): Entry => ({ primary: false, type: "WindowsAzureActiveDirectoryRole", display: value, value });
const okta = (id: string): Entry => ({ value: id, display: id[0]?.toUpperCase() + id.slice(1) });
const ENTRIES: Entry[] = [
  entra("Admin"),
  entra("Moderator"),
  entra("Registered"),
  entra("User"),
  okta("admin"),
  okta("moderator"),
  { value: "Reviewer" },
  { display: "Moderator" },
];

interface ModelUser {
  userType: string | null;
  /** The roles as written, in order; empty is "no roles". */
  roles: Entry[];
  /** roles were ever written: from then on an empty roles says "no role" (no longer "nothing"). */
  rolesWritten: boolean;
  groups: Set<Kind>;
  role: Role;
}

interface Model {
  users: ModelUser[];
  mapped: Record<Kind, boolean>;
  allow: Record<Kind, boolean>;
}

interface Real {
  userIds: string[];
  groupIds: Record<Kind, string>;
}

const named = (text: unknown): Role | undefined => {
  const lower = typeof text === "string" ? text.trim().toLowerCase() : "";
  return lower === "registered" || lower === "moderator" || lower === "admin" ? lower : undefined;
};
const highest = (roles: (Role | undefined)[]): Role | undefined =>
  roles.reduce<Role | undefined>((best, r) => (r !== undefined && (best === undefined || RANK[r] > RANK[best]) ? r : best), undefined);

/** The rules table, written out again: what each current source grants. */
function grants(m: Model, u: ModelUser): Role[] {
  const out: Role[] = [];
  const fromUserType = named(u.userType);
  if (fromUserType) out.push(fromUserType);
  // An entry names a role by its value, else its display.
  const fromRoles = highest(u.roles.map((e) => named(typeof e.value === "string" ? e.value : e.display)));
  if (fromRoles) out.push(fromRoles);
  if (m.mapped.moderator || m.mapped.admin) {
    out.push(
      m.mapped.admin && u.groups.has("admin") ? "admin" : m.mapped.moderator && u.groups.has("moderator") ? "moderator" : "registered",
    );
  }
  return out;
}

/** The wanted role: the highest grant; none: registered, or left as it is for a userType naming no role, roles never written and no mapping. */
function wanted(m: Model, u: ModelUser): Role | undefined {
  const top = highest(grants(m, u));
  if (top) return top;
  const mapped = m.mapped.moderator || m.mapped.admin;
  return u.userType !== null && !u.rolesWritten && !mapped ? undefined : "registered";
}

/** The gate: a change touching admin needs allowAdminPromotion, any other allowModeratorPromotion. */
const allowed = (m: Model, from: Role, to: Role): boolean =>
  from === to || (from === "admin" || to === "admin" ? m.allow.admin : m.allow.moderator);

/** The decision: the wanted role if allowed, else the highest granted role the gate allows, else unchanged. */
function decide(m: Model, u: ModelUser): void {
  const w = wanted(m, u);
  if (w === undefined || w === u.role) return;
  if (allowed(m, u.role, w)) {
    u.role = w;
    return;
  }
  u.role = highest(grants(m, u).filter((g) => allowed(m, u.role, g))) ?? u.role;
}

async function check(m: Model, r: Real): Promise<void> {
  for (const [i, id] of r.userIds.entries()) {
    const user = await expectStatus(await scim("GET", `/Users/${id}`), 200);
    const u = m.users[i];
    expect(siteRole(user), `user ${i}`).toBe(u?.role);
    expect(user.roles, `user ${i}'s roles read back`).toEqual(u?.roles.length ? u.roles : undefined);
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

/** How the IdP writes `roles`: every form Entra and Okta use. */
type RolesForm = "replace" | "pathless" | "add" | "put" | "remove" | "removeValue" | "removeFilter";

class SetRoles implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly form: RolesForm,
    readonly entries: Entry[],
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const u = m.users[this.user];
    const id = r.userIds[this.user] ?? "";
    if (!u) return;
    const same = (a: Entry, b: Entry) => JSON.stringify(a) === JSON.stringify(b);
    let next: Entry[];
    let res: Response;
    switch (this.form) {
      case "replace":
        // Entra AssertiveAppRoleAssignmentsComplex.
        res = await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "roles", value: this.entries }));
        next = this.entries;
        break;
      case "pathless":
        // Okta's entitlements.
        res = await scim("PATCH", `/Users/${id}`, ops({ op: "replace", value: { roles: this.entries } }));
        next = this.entries;
        break;
      case "add":
        // Entra AppRoleAssignmentsComplex: adds what is not there yet.
        res = await scim("PATCH", `/Users/${id}`, ops({ op: "Add", path: "roles", value: this.entries }));
        next = [...u.roles, ...this.entries.filter((e) => !u.roles.some((x) => same(x, e)))];
        break;
      case "put": {
        const current = await expectStatus(await scim("GET", `/Users/${id}`), 200);
        const { roles: _roles, ...rest } = current;
        res = await scim("PUT", `/Users/${id}`, this.entries.length ? { ...rest, roles: this.entries } : rest);
        next = this.entries;
        break;
      }
      case "remove":
        res = await scim("PATCH", `/Users/${id}`, ops({ op: "remove", path: "roles" }));
        next = [];
        break;
      case "removeValue":
        res = await scim("PATCH", `/Users/${id}`, ops({ op: "Remove", path: "roles", value: this.entries }));
        // A value list selects what to drop: every value all of whose given sub-attributes match.
        next = u.roles.filter((x) => !this.entries.some((e) => Object.keys(e).every((k) => x[k] === e[k])));
        break;
      case "removeFilter": {
        const value = this.entries[0]?.value;
        if (typeof value !== "string" || !u.roles.some((x) => typeof x.value === "string" && x.value.toLowerCase() === value.toLowerCase()))
          return;
        res = await scim("PATCH", `/Users/${id}`, ops({ op: "remove", path: `roles[value eq "${value}"]` }));
        next = u.roles.filter((x) => !(typeof x.value === "string" && x.value.toLowerCase() === value.toLowerCase()));
        break;
      }
    }
    expect(res.status, await res.clone().text()).toBe(200);
    u.roles = next;
    u.rolesWritten ||= next.length > 0;
    decide(m, u);
    await check(m, r);
  }
  toString = () => `roles(${this.user}, ${this.form}, ${JSON.stringify(this.entries.map((e) => e.value ?? e.display))})`;
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
const user = fc.integer({ min: 0, max: USERS - 1 });
const commands = [
  fc.tuple(user, fc.constantFrom(...USER_TYPES)).map(([u, v]) => new SetUserType(u, v)),
  fc
    .tuple(
      user,
      fc.constantFrom<RolesForm>("replace", "pathless", "add", "put", "remove", "removeValue", "removeFilter"),
      fc.uniqueArray(fc.constantFrom(...ENTRIES), { minLength: 1, maxLength: 3, selector: (e) => JSON.stringify(e) }),
    )
    .map(([u, form, entries]) => new SetRoles(u, form, entries)),
  user.map((u) => new Touch(u)),
  fc.tuple(user, fc.constantFrom<Kind>("moderator", "admin"), fc.boolean()).map(([u, g, j]) => new Membership(u, g, j)),
  fc
    .tuple(fc.constantFrom<"map" | "allow">("map", "allow"), fc.constantFrom<Kind>("moderator", "admin"), fc.boolean())
    .map(([w, k, on]) => new Setting(w, k, on)),
];

async function setUp(users: number): Promise<{ model: Model; real: Real }> {
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
  const userIds = await Promise.all(Array.from({ length: users }, async () => (await createUser(oktaUser(uniqueName("M")))).id as string));
  const group = async (name: string) =>
    (await expectStatus(await scim("POST", "/Groups", { displayName: uniqueName(name) }), 201)).id as string;
  const real: Real = { userIds, groupIds: { moderator: await group("Mods"), admin: await group("Admins") } };
  const model: Model = {
    users: userIds.map(() => ({ userType: null, roles: [], rolesWritten: false, groups: new Set<Kind>(), role: "registered" as Role })),
    mapped: { moderator: false, admin: false },
    allow: { moderator: false, admin: false },
  };
  return { model, real };
}

describe("roles follow the current sources: model-based (fast-check commands)", () => {
  it("after every step, every user's role is what the rules table says", { timeout: 900_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        const { model, real } = await setUp(USERS);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 60 },
    );
  });

  it("finds nothing wrong with the issue's sequence 1 (as a fixed sequence of the same commands)", { timeout: 60_000 }, async () => {
    const { model, real } = await setUp(1);
    for (const cmd of [new SetUserType(0, "Admin"), new SetUserType(0, null), new Setting("allow", "admin", true), new Touch(0)])
      await cmd.run(model, real);
    expect(model.users[0]?.role).toBe("registered");
  });

  it("bob: userType Admin in the mapped moderator group, moderator promotion on and admin off, is a moderator", {
    timeout: 60_000,
  }, async () => {
    const { model, real } = await setUp(1);
    for (const cmd of [
      new SetUserType(0, "Admin"),
      new Membership(0, "moderator", true),
      new Setting("map", "moderator", true),
      new Setting("allow", "moderator", true),
    ])
      await cmd.run(model, real);
    expect(model.users[0]?.role).toBe("moderator");
  });

  it("an Okta entitlement revoked from an Employee: registered, never a role only roles granted", { timeout: 60_000 }, async () => {
    const { model, real } = await setUp(1);
    for (const cmd of [
      new Setting("allow", "moderator", true),
      new Setting("allow", "admin", true),
      new SetUserType(0, "Employee"),
      new SetRoles(0, "pathless", [okta("admin")]),
      new SetRoles(0, "remove", []),
      new Touch(0),
    ])
      await cmd.run(model, real);
    expect(model.users[0]?.role).toBe("registered");
  });

  it("Entra's app role and Okta's entitlement: set, changed, unknown, removed", { timeout: 60_000 }, async () => {
    const { model, real } = await setUp(1);
    for (const cmd of [
      new Setting("allow", "moderator", true),
      new Setting("allow", "admin", true),
      new SetRoles(0, "add", [entra("Admin")]),
      new SetRoles(0, "replace", [okta("moderator")]),
      new SetRoles(0, "pathless", [{ value: "Reviewer" }]),
      new SetRoles(0, "add", [entra("Admin"), entra("User")]),
      new SetRoles(0, "removeValue", [entra("Admin")]),
      new SetRoles(0, "put", [okta("admin")]),
      new SetRoles(0, "remove", []),
    ])
      await cmd.run(model, real);
    expect(model.users[0]?.role).toBe("registered");
  });
});
