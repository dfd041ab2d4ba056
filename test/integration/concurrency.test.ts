import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createUser,
  expectScimError,
  expectStatus,
  type Json,
  json,
  oktaUser,
  ops,
  scim,
  setSettings,
  siteRole,
  uniqueName,
} from "../helpers";

/**
 * Concurrent writes through the Worker's real fetch against real D1 (SPEC §6: user writes are
 * compare-and-set on version, membership is rows). Every request answers a success, 409 or 412;
 * a success is never lost, a refusal never half-applies, and the event stream the main site
 * receives replays to exactly the final state.
 */

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

interface EventRow {
  type: string;
  version: number;
  payload: { type: string; data: Record<string, unknown> & { version: number; changes: Record<string, unknown> } };
}

async function eventsOf(resourceId: string): Promise<EventRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT type, resource_version AS version, payload FROM events WHERE resource_id = ? ORDER BY resource_version",
  )
    .bind(resourceId)
    .all<{ type: string; version: number; payload: string }>();
  return results.map((r) => ({ type: r.type, version: r.version, payload: JSON.parse(r.payload) as EventRow["payload"] }));
}

/**
 * The main site's view: versions 1..n without a gap or a repeat, each payload carrying its own
 * version, and the last event's state equal to what GET answers now (groups live on the Group).
 */
async function expectEventsConverge(userId: string): Promise<EventRow[]> {
  const events = await eventsOf(userId);
  expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
  for (const e of events) expect(e.payload.data.version).toBe(e.version);
  const now = await json(await scim("GET", `/Users/${userId}`));
  const last = events[events.length - 1];
  expect(now.meta).toMatchObject({ version: `W/"${events.length}"` });
  const { groups: _groups, ...withoutGroups } = now;
  expect(last?.payload.data.user).toEqual(withoutGroups);
  return events;
}

async function newGroup(members: string[] = []): Promise<Json> {
  return expectStatus(
    await scim("POST", "/Groups", { displayName: uniqueName("Group"), members: members.map((value) => ({ value })) }),
    201,
  );
}

async function memberIds(groupId: string): Promise<string[]> {
  const g = await json(await scim("GET", `/Groups/${groupId}`));
  return ((g.members as Json[] | undefined) ?? []).map((m) => m.value as string).sort();
}

async function newUsers(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await createUser(oktaUser(uniqueName("Member")))).id as string);
  return ids;
}

beforeAll(async () => {
  await setSettings();
});

describe("parallel PATCHes to one user", () => {
  // Ten different attributes, including sub-attributes, the extension and active.
  const same = (v: string): unknown => v;
  const CHANGES: { path: string; value: (v: string) => unknown; read: (u: Json) => unknown }[] = [
    { path: "title", value: same, read: (u) => u.title },
    { path: "nickName", value: same, read: (u) => u.nickName },
    { path: "displayName", value: same, read: (u) => u.displayName },
    { path: "locale", value: same, read: (u) => u.locale },
    { path: "timezone", value: same, read: (u) => u.timezone },
    { path: "preferredLanguage", value: same, read: (u) => u.preferredLanguage },
    { path: "name.givenName", value: same, read: (u) => (u.name as Json | undefined)?.givenName },
    { path: "name.middleName", value: same, read: (u) => (u.name as Json | undefined)?.middleName },
    { path: `${ENT}:department`, value: same, read: (u) => (u[ENT] as Json | undefined)?.department },
    { path: "profileUrl", value: (v) => `https://example.com/${v}`, read: (u) => u.profileUrl },
  ];

  for (let round = 1; round <= 3; round++) {
    it(`round ${round}: each answers 200 or 409; every 200 is applied and delivered, every 409 is not applied`, async () => {
      const u = await createUser(oktaUser(uniqueName()));
      const id = u.id as string;
      const tag = crypto.randomUUID().slice(0, 8);
      const results = await Promise.all(
        CHANGES.map(({ path, value }) => scim("PATCH", `/Users/${id}`, ops({ op: "replace", path, value: value(`${tag}-${path}`) }))),
      );
      const final = await json(await scim("GET", `/Users/${id}`));
      let applied = 0;
      for (const [i, res] of results.entries()) {
        const { path, value, read } = CHANGES[i] ?? { path: "", value: () => undefined, read: () => undefined };
        const expected = value(`${tag}-${path}`);
        if (res.status === 200) {
          applied++;
          expect(read(final), `${path} answered 200 but is lost`).toEqual(expected);
        } else {
          await expectScimError(res, 409);
          expect(read(final), `${path} answered 409 but was applied`).not.toEqual(expected);
        }
      }
      expect(applied).toBeGreaterThan(0);
      // One user.updated per applied PATCH, after user.created, and the site ends where GET is.
      const events = await expectEventsConverge(id);
      expect(events.map((e) => e.type)).toEqual(["user.created", ...Array.from({ length: applied }, () => "user.updated")]);
    });
  }

  it("with If-Match on the same version: exactly one 200, the rest 412, only the winner applied", async () => {
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const etag = (u.meta as Json).version as string;
    const titles = Array.from({ length: 8 }, (_, i) => `title-${i}`);
    const results = await Promise.all(
      titles.map((title) =>
        scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "title", value: title }), { headers: { "If-Match": etag } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const r of results) if (r.status !== 200) await expectScimError(r, 412);
    const winner = titles[statuses.indexOf(200)];
    expect((await json(await scim("GET", `/Users/${id}`))).title).toBe(winner);
    expect((await expectEventsConverge(id)).map((e) => e.type)).toEqual(["user.created", "user.updated"]);
  });

  it("PATCHes racing a DELETE: each PATCH lands before it (200) or finds no user (404); nothing follows user.deleted", async () => {
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const requests = [
      ...Array.from({ length: 6 }, (_, i) => scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "title", value: `t${i}` }))),
      scim("DELETE", `/Users/${id}`),
      ...Array.from({ length: 3 }, () => scim("DELETE", `/Users/${id}`)),
    ];
    const results = await Promise.all(requests);
    const deletes = results.slice(6).map((r) => r.status);
    expect(deletes.filter((s) => s === 204)).toHaveLength(1);
    expect(deletes.every((s) => s === 204 || s === 404 || s === 409)).toBe(true);
    for (const r of results.slice(0, 6)) expect([200, 404, 409], await r.clone().text()).toContain(r.status);
    await expectScimError(await scim("GET", `/Users/${id}`), 404);
    const events = await eventsOf(id);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "user.deleted")).toHaveLength(1);
    expect(events[events.length - 1]?.type).toBe("user.deleted");
    expect(events.filter((e) => e.type === "user.updated")).toHaveLength(results.slice(0, 6).filter((r) => r.status === 200).length);
  });
});

describe("parallel creates with the same userName in different case", () => {
  it("twelve spellings of one userName (case, fullwidth, ligature): exactly one 201, the rest 409 uniqueness", async () => {
    const base = `ﬁnn.${Date.now().toString(36)}@example.com`;
    const spellings = [
      base,
      base.toUpperCase(),
      base.replace("ﬁ", "fi"),
      base.replace("ﬁ", "FI"),
      base.replace("ﬁ", "Fi"),
      base.replace("ﬁ", "ｆｉ"), // fullwidth: NFKC folds it to "fi"
      base.replace("ﬁnn", "FINN"),
      base.replace("example", "EXAMPLE"),
      base.replace("ﬁ", "fI"),
      base.toUpperCase().replace("ﬁ", "fi"),
      base.replace("ﬁnn", "ﬁNN"),
      base.replace("ﬁnn", "ｆｉｎｎ"),
    ];
    const results = await Promise.all(spellings.map((userName) => scim("POST", "/Users", oktaUser(userName))));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of results) if (r.status !== 201) await expectScimError(r, 409, "uniqueness");
    const winner = await json(created[0] ?? new Response("{}"));
    // One row, one user.created, and every spelling finds that one user (Okta's lookup).
    const norm = base.normalize("NFKC").toLowerCase();
    const rows = await env.DB.prepare("SELECT id FROM users WHERE user_name_norm = ?").bind(norm).all<{ id: string }>();
    expect(rows.results.map((r) => r.id)).toEqual([winner.id]);
    expect((await eventsOf(winner.id as string)).map((e) => e.type)).toEqual(["user.created"]);
    for (const userName of spellings) {
      const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(userName)}`)}`));
      expect(found.totalResults, userName).toBe(1);
      expect((found.Resources as Json[])[0]?.id).toBe(winner.id);
    }
  });

  it("a PUT and a POST racing for the same new userName: one of them gets it, the other 409", async () => {
    const target = uniqueName("Race");
    const other = await createUser(oktaUser(uniqueName()));
    const [put, post] = await Promise.all([
      scim("PUT", `/Users/${other.id as string}`, oktaUser(target.toLowerCase())),
      scim("POST", "/Users", oktaUser(target.toUpperCase())),
    ]);
    expect([200, 409], await put.clone().text()).toContain(put.status);
    expect([201, 409], await post.clone().text()).toContain(post.status);
    expect([put.status === 200, post.status === 201].filter(Boolean)).toHaveLength(1);
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${target}"`)}`));
    expect(found.totalResults).toBe(1);
  });
});

describe("parallel group membership changes lose nothing", () => {
  it("adds, removes and renames in parallel: final members = initial − removed + added; the events replay to it", async () => {
    const initial = await newUsers(6);
    const added = await newUsers(8);
    const removed = initial.slice(0, 3);
    const g = await newGroup(initial);
    const id = g.id as string;
    const requests = [
      ...added.map((u) => scim("PATCH", `/Groups/${id}`, ops({ op: "add", path: "members", value: [{ value: u }] }))),
      ...removed.map((u) => scim("PATCH", `/Groups/${id}`, ops({ op: "remove", path: `members[value eq "${u}"]` }))),
      scim("PATCH", `/Groups/${id}`, ops({ op: "replace", path: "displayName", value: uniqueName("Renamed") })),
      // The same member added twice and removed twice concurrently: idempotent set operations.
      scim("PATCH", `/Groups/${id}`, ops({ op: "add", path: "members", value: [{ value: added[0] }] })),
      scim("PATCH", `/Groups/${id}`, ops({ op: "remove", path: `members[value eq "${removed[0] ?? ""}"]` })),
    ];
    const results = await Promise.all(requests);
    for (const r of results) expect(r.status, await r.clone().text()).toBe(204);
    const expected = [...initial.filter((u) => !removed.includes(u)), ...added].sort();
    expect(await memberIds(id)).toEqual(expected);

    // What the main site receives, applied in version order, gives the same membership.
    const { results: rows } = await env.DB.prepare(
      "SELECT type, resource_version AS v, payload FROM events WHERE resource_id = ? ORDER BY resource_version",
    )
      .bind(id)
      .all<{ type: string; v: number; payload: string }>();
    expect(rows.map((r) => r.v)).toEqual(rows.map((_, i) => i + 1));
    const site = new Set<string>();
    for (const r of rows) {
      const data = (JSON.parse(r.payload) as { data: { version: number; changes: { members?: string[] } } }).data;
      expect(data.version).toBe(r.v);
      const members = data.changes.members ?? [];
      if (r.type === "group.created" || r.type === "group.members_added") members.forEach((m) => site.add(m));
      if (r.type === "group.members_removed") members.forEach((m) => site.delete(m));
    }
    expect([...site].sort()).toEqual(expected);
    const g2 = await json(await scim("GET", `/Groups/${id}?excludedAttributes=members`));
    expect((g2.meta as Json).version).toBe(`W/"${rows.length}"`);
  });

  describe("on a group mapped to the moderator role, racing PATCHes of the same users", () => {
    afterAll(async () => {
      await setSettings({ moderatorGroup: null, allowModeratorPromotion: false });
    });

    it("every member ends a moderator, every 200 user PATCH is kept, each user's events replay to its state", async () => {
      const mods = await newGroup();
      const gid = mods.id as string;
      await setSettings({ moderatorGroup: gid, allowModeratorPromotion: true });
      const ids = await newUsers(6);
      const requests = ids.flatMap((u, i) => [
        scim("PATCH", `/Groups/${gid}`, ops({ op: "add", path: "members", value: [{ value: u }] })),
        scim("PATCH", `/Users/${u}`, ops({ op: "replace", path: "title", value: `t-${i}` })),
        scim("PATCH", `/Users/${u}`, ops({ op: "replace", path: "nickName", value: `n-${i}` })),
      ]);
      const results = await Promise.all(requests);
      const members = new Set(await memberIds(gid));
      for (const [i, u] of ids.entries()) {
        const [groupRes, titleRes, nickRes] = results.slice(i * 3, i * 3 + 3);
        if (!groupRes || !titleRes || !nickRes) throw new Error("missing result");
        expect([204, 409], await groupRes.clone().text()).toContain(groupRes.status);
        const user = await json(await scim("GET", `/Users/${u}`));
        // Member and moderator go together: never a member left registered, or the reverse.
        expect(members.has(u)).toBe(groupRes.status === 204);
        expect(siteRole(user)).toBe(members.has(u) ? "moderator" : "registered");
        for (const { res, attr, value } of [
          { res: titleRes, attr: "title", value: `t-${i}` },
          { res: nickRes, attr: "nickName", value: `n-${i}` },
        ]) {
          expect([200, 409], await res.clone().text()).toContain(res.status);
          if (res.status === 200) expect(user[attr]).toBe(value);
          else expect(user[attr]).not.toBe(value);
        }
        const events = await expectEventsConverge(u);
        expect(events.filter((e) => e.type === "user.role_changed")).toHaveLength(members.has(u) ? 1 : 0);
      }
    });
  });
});
