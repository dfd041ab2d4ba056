import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createUser, expectStatus, type Json, oktaUser, ops, scim, setSettings, uniqueName } from "../helpers";

/**
 * The trigram index behind co / sw / ew (users_fts, migrations 0006 and 0008) is rewritten only
 * when a value it holds changes. FTS5 writes every change as a new segment and records it in the
 * structure row (id 10 of users_fts_data), so an unchanged structure row means no index write.
 * A title, an enterprise attribute or a letter-case change of displayName rewrote it before 0008;
 * `active` and a PUT that changes nothing never did, and are kept here so they never will.
 */
const structure = async (): Promise<string> => {
  const row = await env.DB.prepare("SELECT hex(block) AS b FROM users_fts_data WHERE id = 10").first<{ b: string }>();
  return row?.b ?? "";
};

const indexRow = (seq: number) =>
  env.DB.prepare("SELECT user_name, display_name, given_name, family_name, emails FROM users_fts WHERE rowid = ?").bind(seq).first();

const seqOf = async (id: string): Promise<number> => {
  const row = await env.DB.prepare("SELECT seq FROM users WHERE id = ?").bind(id).first<{ seq: number }>();
  return row?.seq ?? -1;
};

async function found(filter: string): Promise<string[]> {
  const list = await expectStatus(await scim("GET", `/Users?filter=${encodeURIComponent(filter)}&attributes=userName`), 200);
  return ((list.Resources as Json[] | undefined) ?? []).map((r) => String(r.id));
}

const tag = `ti${Date.now().toString(36)}`;

describe("the text index is written only when an indexed value changes", () => {
  let user: Json;
  let seq: number;

  beforeAll(async () => {
    await setSettings();
    user = await createUser(
      oktaUser(uniqueName(`Zoë${tag}`), {
        name: { givenName: `Émilie${tag}`, familyName: "Brontë" },
        title: "Engineer",
        displayName: "Émilie B",
      }),
    );
    seq = await seqOf(String(user.id));
  });

  const unchanged: [string, () => unknown][] = [
    ["PATCH active=false", () => ops({ op: "replace", path: "active", value: false })],
    ["PATCH active=true", () => ops({ op: "replace", value: { active: true } })],
    ["PATCH title", () => ops({ op: "replace", path: "title", value: "Staff Engineer" })],
    [
      "PATCH an enterprise attribute",
      () => ops({ op: "add", path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", value: "R&D" }),
    ],
    // Only the letter case of the display name changes: the index holds it folded.
    ["PATCH displayName in another letter case", () => ops({ op: "replace", path: "displayName", value: "ÉMILIE B" })],
  ];

  it.each(unchanged)("%s leaves the index row as it was", async (_, body) => {
    const before = await structure();
    const row = await indexRow(seq);
    expect(before).not.toBe("");
    await expectStatus(await scim("PATCH", `/Users/${user.id}`, body()), 200);
    expect(await structure()).toBe(before);
    expect(await indexRow(seq)).toEqual(row);
  });

  it("a PUT that repeats the stored values leaves it as it was", async () => {
    const current = await expectStatus(await scim("GET", `/Users/${user.id}`), 200);
    const before = await structure();
    await expectStatus(await scim("PUT", `/Users/${user.id}`, { ...current, meta: undefined, groups: undefined }), 200);
    expect(await structure()).toBe(before);
  });

  const changed: [string, Record<string, unknown>, string, string][] = [
    [
      "name.givenName",
      { op: "replace", path: "name.givenName", value: `Amélie${tag}` },
      `name.givenName co "AMÉLIE${tag}"`,
      `name.givenName co "ÉMILIE${tag}"`,
    ],
    [
      "name.familyName",
      { op: "replace", path: "name.familyName", value: `Łukasz${tag}` },
      `name.familyName sw "łukasz${tag}"`,
      'name.familyName co "brontë"',
    ],
    [
      "displayName",
      { op: "replace", path: "displayName", value: `Ærø ${tag}` },
      `displayName ew "ærø ${tag}"`,
      'displayName co "émilie b"',
    ],
    [
      "emails",
      { op: "replace", path: "emails", value: [{ value: `Ørsted.${tag}@Example.org`, type: "work", primary: true }] },
      `emails.value co "ørsted.${tag}@example"`,
      `emails.value co "zoë${tag}"`,
    ],
    [
      "userName",
      { op: "replace", path: "userName", value: `Ñandú.${tag}@example.org` },
      `userName sw "ñandú.${tag}"`,
      `userName co "zoë${tag}"`,
    ],
  ];

  it.each(changed)("a new %s is written to the index: the new value is found, the old one is not", async (_, op, now, before) => {
    expect(await found(before)).toContain(user.id);
    const structureBefore = await structure();
    await expectStatus(await scim("PATCH", `/Users/${user.id}`, ops(op)), 200);
    expect(await structure()).not.toBe(structureBefore);
    expect(await found(now)).toEqual([user.id]);
    expect(await found(before)).not.toContain(user.id);
  });

  it("a user whose index row is missing gets it back on its next change", async () => {
    const other = await createUser(oktaUser(uniqueName(`Yusuf${tag}`), { name: { givenName: "Yusuf", familyName: `Özdemir${tag}` } }));
    const otherSeq = await seqOf(String(other.id));
    await env.DB.prepare("DELETE FROM users_fts WHERE rowid = ?").bind(otherSeq).run();
    expect(await found(`name.familyName co "özdemir${tag}"`)).toEqual([]);
    await expectStatus(await scim("PATCH", `/Users/${other.id}`, ops({ op: "replace", path: "title", value: "Analyst" })), 200);
    expect(await indexRow(otherSeq)).not.toBeNull();
    expect(await found(`name.familyName co "özdemir${tag}"`)).toEqual([other.id]);
  });

  it("a deleted user leaves the index", async () => {
    const gone = await createUser(oktaUser(uniqueName(`Gone${tag}`)));
    const goneSeq = await seqOf(String(gone.id));
    expect(await indexRow(goneSeq)).not.toBeNull();
    await expectStatus(await scim("DELETE", `/Users/${gone.id}`), 204);
    expect(await indexRow(goneSeq)).toBeNull();
  });
});
