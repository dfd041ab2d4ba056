import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { netMembershipChange } from "../../src/groups/membership";
import { ScimError } from "../../src/scim/errors";
import { applyPatch, type PatchResult } from "../../src/scim/patch";
import { normalizeResource, type StoredResource } from "../../src/scim/resource";
import { ENTERPRISE_USER_SCHEMA_ID as ENT, GROUP_RESOURCE, PATCH_OP_SCHEMA, USER_RESOURCE } from "../../src/scim/schemas";
import { anyString } from "./arbitraries";

/**
 * Properties of the PATCH engine (RFC 7644 §3.5.2): whatever arrives, it either returns a valid
 * stored resource or throws a 400 ScimError; it never mutates its input, so a failing operation
 * anywhere in a request leaves the resource as it was; and removing what an add added restores
 * the original.
 */

const RUNS = { numRuns: 200 };
const USER_ID = "2819c223-7f76-453a-919d-413861904646";
const GROUP_ID = "e9e30dba-f08f-4109-8486-d5c6a331660a";

const body = (operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations: operations });
const patchUser = (user: StoredResource, operations: unknown[]): PatchResult =>
  applyPatch(user, body(operations), USER_RESOURCE, { id: USER_ID });

/** Frozen all the way down: any write to the input throws a TypeError, which the properties reject. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The outcome of a PATCH: the result, or the ScimError it threw (anything else fails the property). */
function outcome(fn: () => PatchResult): PatchResult | ScimError {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ScimError))
      throw new Error(`threw a non-SCIM error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    expect(err.status).toBe(400);
    expect(err.scimType).toBeDefined();
    expect(err.detail.length).toBeGreaterThan(10);
    return err;
  }
}

afterEach(() => {
  // Nothing any property fed in may have reached a prototype.
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const TYPES = ["work", "home", "other"] as const;
const element = fc.record({ value: anyString(), type: fc.constantFrom(...TYPES) }, { requiredKeys: ["value"] });

/** Stored users as POST would store them (normalizeResource of a random valid body). */
const storedUser: fc.Arbitrary<StoredResource> = fc
  .record(
    {
      userName: fc.string({ minLength: 1, maxLength: 12 }),
      externalId: anyString(),
      displayName: anyString(),
      title: anyString(),
      nickName: anyString(),
      userType: fc.constantFrom("Employee", "Admin", "Moderator", "Registered"),
      active: fc.boolean(),
      name: fc.record({ givenName: anyString(), familyName: anyString(), formatted: anyString() }, { requiredKeys: [] }),
      emails: fc.array(element, { maxLength: 3 }),
      phoneNumbers: fc.array(element, { maxLength: 2 }),
      primaryEmail: fc.boolean(),
      [ENT]: fc.record(
        { department: anyString(), employeeNumber: anyString(), manager: fc.record({ value: anyString() }) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ["userName"] },
  )
  .map(({ primaryEmail, emails, ...raw }) => {
    const [first, ...rest] = emails ?? [];
    const marked: Record<string, unknown>[] = first ? [primaryEmail ? { ...first, primary: true } : first, ...rest] : [];
    return deepFreeze(normalizeResource({ ...raw, emails: marked }, USER_RESOURCE).data);
  });

const SIMPLE = [
  "displayName",
  "nickName",
  "title",
  "userType",
  "preferredLanguage",
  "locale",
  "timezone",
  "externalId",
  "profileUrl",
  "name.givenName",
  "name.familyName",
  "name.formatted",
  `${ENT}:department`,
  `${ENT}:employeeNumber`,
  `${ENT}:costCenter`,
];
const MULTI = ["emails", "phoneNumbers", "ims", "photos", "entitlements"] as const;
const verb = (v: string) => fc.constantFrom(v, v.charAt(0).toUpperCase() + v.slice(1));

/** Operations of the shapes Okta and Entra send, with random values: each may apply or fail. */
const plausibleOp: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ op: fc.oneof(verb("add"), verb("replace")), path: fc.constantFrom(...SIMPLE), value: anyString() }),
  fc.record({ op: verb("remove"), path: fc.constantFrom(...SIMPLE) }),
  fc.record({ op: verb("replace"), path: fc.constant("active"), value: fc.oneof(fc.boolean(), fc.constantFrom("True", "False", "false")) }),
  fc.record({ op: verb("add"), path: fc.constantFrom(...MULTI), value: fc.array(element, { maxLength: 2 }) }),
  fc.record({
    op: fc.oneof(verb("add"), verb("replace")),
    path: fc.constantFrom('emails[type eq "work"].value', 'phoneNumbers[type eq "home"].value', "emails[primary eq true].type"),
    value: anyString(),
  }),
  fc.record({
    op: verb("remove"),
    path: fc.constantFrom('emails[type eq "home"]', 'emails[value co "a"]', "emails", 'phoneNumbers[type eq "work"].value'),
  }),
  fc.record({
    op: verb("replace"),
    value: fc.record(
      { displayName: anyString(), "name.givenName": anyString(), active: fc.boolean(), [`${ENT}:department`]: anyString() },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ op: verb("replace"), path: fc.constant(`${ENT}:manager`), value: fc.oneof(anyString(), fc.record({ value: anyString() })) }),
  fc.record({ op: verb("replace"), path: fc.constant("userName"), value: fc.string({ minLength: 1, maxLength: 8 }) }),
);

/** JSON as a body can carry it, with the keys an attacker would pick (JSON.parse makes them own keys). */
const KEYS = ["__proto__", "constructor", "prototype", "op", "path", "value", "Operations", "emails", "name", "active", ENT];
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.oneof(anyString(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
    fc.array(tie("json"), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), anyString(6)), tie("json")), { maxLength: 4 })
      .map((entries) => Object.fromEntries(entries)),
  ),
}));
const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? "null");

const garbageOp: fc.Arbitrary<unknown> = fc.oneof(
  json,
  fc.record(
    {
      op: fc.oneof(fc.constantFrom("add", "replace", "remove", "REMOVE", "move", "", "__proto__"), anyString(6), json),
      path: fc.oneof(
        fc.constantFrom("__proto__", "constructor.prototype", "name.__proto__", "emails[__proto__ eq 1]", "", " "),
        anyString(30),
        json,
      ),
      value: json,
    },
    { requiredKeys: [] },
  ),
);

describe("applyPatch: anything in, a valid resource or a 400 ScimError out", () => {
  it("random bodies (any JSON, with __proto__ and constructor keys)", () => {
    const bodies = fc.oneof(
      json,
      fc.array(fc.oneof(garbageOp, plausibleOp), { maxLength: 6 }).map(body),
      json.map((o) => ({ Operations: o })),
    );
    fc.assert(
      fc.property(storedUser, bodies, (user, b) => {
        outcome(() => applyPatch(user, viaJson(b), USER_RESOURCE, { id: USER_ID }));
        outcome(() => applyPatch(deepFreeze({ displayName: "G" }), viaJson(b), GROUP_RESOURCE, { id: GROUP_ID }));
      }),
      RUNS,
    );
  });

  it("a successful PATCH returns a stored resource in normal form, without touching its input", () => {
    fc.assert(
      fc.property(storedUser, fc.array(plausibleOp, { minLength: 1, maxLength: 6 }), (user, ops) => {
        const r = outcome(() => patchUser(user, ops));
        if (r instanceof ScimError) return;
        expect(typeof r.data.userName).toBe("string");
        // Normalising again changes nothing: a PATCH stores exactly what a PUT of the result would.
        expect(normalizeResource(r.data, USER_RESOURCE).data).toEqual(r.data);
      }),
      RUNS,
    );
  });

  it("one request with several operations = the same operations one request at a time, when each succeeds", () => {
    fc.assert(
      fc.property(storedUser, fc.array(plausibleOp, { minLength: 2, maxLength: 4 }), (user, ops) => {
        let stepwise: StoredResource = user;
        for (const op of ops) {
          const r = outcome(() => patchUser(stepwise, [op]));
          if (r instanceof ScimError) return;
          stepwise = r.data;
        }
        const together = outcome(() => patchUser(user, ops));
        expect(together).not.toBeInstanceOf(ScimError);
        if (!(together instanceof ScimError)) expect(together.data).toEqual(stepwise);
      }),
      RUNS,
    );
  });
});

describe("complex attributes: sub-attributes not given are left unchanged (RFC 7644 §3.5.2.1, §3.5.2.3)", () => {
  const NAME_SUBS = ["givenName", "familyName", "middleName", "formatted", "honorificPrefix", "honorificSuffix"] as const;
  // Each given sub-attribute is set (a string), unassigned (null or ""), or unknown to the schema.
  const given = fc.dictionary(
    fc.oneof(fc.constantFrom(...NAME_SUBS), fc.constantFrom("givenNme", "nickname", "display")),
    fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom(null, "")),
    { maxKeys: 4 },
  );

  it("add / replace of name sets what is given, unassigns what is null, keeps the rest", () => {
    fc.assert(
      fc.property(storedUser, fc.constantFrom("add", "replace", "Replace"), given, fc.boolean(), (user, op, value, pathless) => {
        const before = (user.name ?? {}) as Record<string, unknown>;
        const expected: Record<string, unknown> = { ...before };
        for (const [k, v] of Object.entries(value)) {
          if (!(NAME_SUBS as readonly string[]).includes(k)) continue;
          if (v === null || v === "") delete expected[k];
          else expected[k] = v;
        }
        const operation = pathless ? { op, value: { name: value } } : { op, path: "name", value };
        const after = patchUser(user, [operation]).data;
        expect(after.name ?? {}).toEqual(expected);
      }),
      RUNS,
    );
  });
});

/**
 * Operations that fail whatever comes before or after them in the request. (Unassigning
 * userName is not one: a later operation may set it again, and only the result must have one.)
 */
const failingOp = fc.oneof(
  fc.constant({ op: "frobnicate", path: "title", value: "x" }),
  fc.constant({ op: "replace", path: "noSuchAttribute", value: 1 }),
  fc.constant({ op: "replace", path: "id", value: "x" }),
  fc.constant({ op: "add", path: "groups", value: [{ value: "g" }] }),
  fc.constant({ op: "replace", path: "active", value: "maybe" }),
  fc.constant({ op: "remove" }),
  fc.uuid().map((u) => ({ op: "remove", path: `emails[value eq "no-such-${u}"]` })),
  fc.constant({ op: "add", path: "emails", value: Array.from({ length: 101 }, (_, i) => ({ value: `bulk${i}@x` })) }),
  fc.constant({ op: "replace", path: "__proto__", value: { polluted: true } }),
);

describe("applyPatch is atomic", () => {
  it("a failing operation anywhere in the list fails the request and leaves the resource unchanged", () => {
    fc.assert(
      fc.property(storedUser, fc.array(plausibleOp, { maxLength: 5 }), failingOp, fc.nat(), (user, ops, bad, at) => {
        const snapshot = structuredClone(user);
        const list = [...ops];
        list.splice(at % (ops.length + 1), 0, bad);
        expect(outcome(() => patchUser(user, list))).toBeInstanceOf(ScimError);
        // The input is frozen, so nothing could have been written to it; it is also still equal.
        expect(user).toEqual(snapshot);
      }),
      RUNS,
    );
  });
});

describe("remove after add of the same value restores the original", () => {
  const marker = fc.uuid().map((u) => `added-${u}`);
  // photos hold references: an http(s) URL (src/scim/resource.ts refuses other schemes).
  const markerFor = (attr: string) => (attr === "photos" ? marker.map((m) => `https://example.com/${m}.png`) : marker);

  it.each(MULTI)("%s: add a new value, then remove it by filter or by value (one request or two)", (attr) => {
    fc.assert(
      fc.property(
        storedUser,
        markerFor(attr),
        fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        (user, value, type, byValue, together) => {
          const added = type === undefined ? { value } : { value, type };
          const add = { op: "add", path: attr, value: [added] };
          const remove = byValue
            ? { op: "remove", path: attr, value: [added] }
            : { op: "remove", path: `${attr}[value eq ${JSON.stringify(value)}]` };
          if (together) {
            expect(patchUser(user, [add, remove]).data).toEqual(user);
          } else {
            const after = patchUser(user, [add]).data;
            expect(after).not.toEqual(user);
            expect(patchUser(after, [remove]).data).toEqual(user);
          }
        },
      ),
      RUNS,
    );
  });

  it("addresses: add one, remove it by its street address", () => {
    fc.assert(
      fc.property(storedUser, marker, (user, street) => {
        const after = patchUser(user, [{ op: "add", path: "addresses", value: [{ streetAddress: street, locality: "X" }] }]).data;
        expect(patchUser(after, [{ op: "remove", path: `addresses[streetAddress eq ${JSON.stringify(street)}]` }]).data).toEqual(user);
      }),
      RUNS,
    );
  });

  it("single-valued attributes the user did not have: add, then remove", () => {
    fc.assert(
      fc.property(
        storedUser,
        fc
          .constantFrom(...SIMPLE)
          .chain((path) => fc.tuple(fc.constant(path), path === "profileUrl" ? fc.webUrl() : fc.string({ minLength: 1, maxLength: 12 }))),
        (user, [path, value]) => {
          const without = patchUser(user, [{ op: "remove", path }]).data;
          const after = patchUser(without, [{ op: "add", path, value }]).data;
          expect(after).not.toEqual(without);
          expect(patchUser(after, [{ op: "remove", path }]).data).toEqual(without);
        },
      ),
      RUNS,
    );
  });

  it("group members: add ids that are not members, then remove them → the same membership", () => {
    const ids = fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(ids, ids, fc.boolean(), (current, more, together) => {
        const fresh = more.filter((id) => !current.includes(id));
        fc.pre(fresh.length > 0);
        const members = fresh.map((value) => ({ value }));
        const filter = fresh.map((id) => `value eq ${JSON.stringify(id)}`).join(" or ");
        const add = { op: "add", path: "members", value: members };
        const remove = { op: "remove", path: `members[${filter}]` };
        const group = deepFreeze({ displayName: "Eng" });
        const start = new Set(current);
        if (together) {
          const r = applyPatch(group, body([add, remove]), GROUP_RESOURCE, { id: GROUP_ID });
          expect(r.data).toEqual(group);
          expect(netMembershipChange(start, r.memberOps)).toEqual({ added: [], removed: [] });
        } else {
          const first = applyPatch(group, body([add]), GROUP_RESOURCE, { id: GROUP_ID });
          const afterAdd = netMembershipChange(start, first.memberOps);
          expect(afterAdd.added.sort()).toEqual([...fresh].sort());
          const grown = new Set([...current, ...afterAdd.added]);
          const second = applyPatch(first.data, body([remove]), GROUP_RESOURCE, { id: GROUP_ID });
          const afterRemove = netMembershipChange(grown, second.memberOps);
          expect(afterRemove.removed.sort()).toEqual([...fresh].sort());
          expect(second.data).toEqual(group);
        }
      }),
      RUNS,
    );
  });
});
