import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { backfillFolded } from "../../src/jobs/fold";
import { expectScimError, expectStatus, type Json, ops, scim, setSettings } from "../helpers";

/**
 * One person, one userName (src/scim/text.ts, src/scim/username.ts): the same name in another case,
 * normalisation form or with an invisible joiner is the same user for uniqueness, lookups and
 * filters; characters no person can see are refused with a 400 that names them; userNames stored
 * before these rules are refolded by the cron without losing or blocking anyone.
 */
const tag = `u${Date.now().toString(36)}`;
const found = async (filter: string): Promise<string[]> => {
  const list = await expectStatus(await scim("GET", `/Users?filter=${encodeURIComponent(filter)}`), 200);
  return ((list.Resources as Json[] | undefined) ?? []).map((r) => String(r.userName));
};

beforeAll(async () => {
  await setSettings();
});

describe("one name, however it is written", () => {
  it('ΟΔΟΣ@ and οδοσ@ (final and medial sigma) are one user: 409, and co "Σ@" finds it', async () => {
    const upper = `ΟΔΟΣ@${tag}.example`;
    await expectStatus(await scim("POST", "/Users", { userName: upper }), 201);
    const dup = await expectScimError(await scim("POST", "/Users", { userName: `οδοσ@${tag}.example` }), 409, "uniqueness");
    expect(dup.detail).toContain(`οδοσ@${tag}.example`);
    expect(await found(`userName co "Σ@${tag}"`)).toEqual([upper]);
    expect(await found(`userName eq "οδοσ@${tag}.EXAMPLE"`)).toEqual([upper]);
    expect(await found(`userName sw "οδοσ@${tag}"`)).toEqual([upper]);
  });

  it("Straße and STRASSE, NFC and NFD, a zero-width joiner: 409 each", async () => {
    const base = `Straße.é${tag}`;
    await expectStatus(await scim("POST", "/Users", { userName: base }), 201);
    for (const same of [`STRASSE.É${tag}`, `Strasse.e\u0301${tag}`, `Stra\u200Dße.é${tag}`, `ｓｔｒａｓｓｅ.é${tag}`]) {
      await expectScimError(await scim("POST", "/Users", { userName: same }), 409, "uniqueness");
      expect(await found(`userName eq ${JSON.stringify(same)}`)).toEqual([base]);
    }
  });

  it.each([
    ["a zero-width space", `bo\u200Bb${tag}`, "U+200B ZERO WIDTH SPACE"],
    ["a soft hyphen", `bo\u00ADb${tag}`, "U+00AD SOFT HYPHEN"],
    ["a byte-order mark", `\uFEFFbob${tag}`, "U+FEFF"],
    ["a trailing space", `bob${tag} `, "ends with a space"],
    ["NUL", `nul${tag}\u0000filo@x`, "control character U+0000"],
    ["a right-to-left override", `\u202Ebob${tag}`, "RIGHT-TO-LEFT OVERRIDE"],
  ])("%s is refused with a 400 naming it, on POST, PUT and PATCH", async (_, userName, detail) => {
    const err = await expectScimError(await scim("POST", "/Users", { userName }), 400, "invalidValue");
    expect(err.detail).toContain(detail);
    const u = await expectStatus(await scim("POST", "/Users", { userName: `ok-${crypto.randomUUID()}` }), 201);
    const put = await expectScimError(await scim("PUT", `/Users/${u.id as string}`, { userName }), 400, "invalidValue");
    expect(put.detail).toContain(detail);
    await expectScimError(
      await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "replace", path: "userName", value: userName })),
      400,
      "invalidValue",
    );
  });

  it("a Cyrillic look-alike is a user of its own (a real letter), a zero-width joiner is not", async () => {
    await expectStatus(await scim("POST", "/Users", { userName: `bob${tag}` }), 201);
    await expectStatus(await scim("POST", "/Users", { userName: `b\u043Eb${tag}` }), 201);
    await expectScimError(await scim("POST", "/Users", { userName: `b\u200Dob${tag}` }), 409, "uniqueness");
  });
});

describe("userNames stored before the rules", () => {
  const insertLegacy = (id: string, userName: string, norm: string, foldVersion = 0) =>
    env.DB.prepare(
      `INSERT INTO users (id, user_name, user_name_norm, email_norm, active, role, data, data_fold, version, created_at, updated_at, fold_version)
       VALUES (?, ?, ?, NULL, 1, 'registered', ?, NULL, 1, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', ?)`,
    )
      .bind(id, userName, norm, JSON.stringify({ userName }), foldVersion)
      .run();

  it("keep working: a user with a trailing space or a NUL can still be deactivated, and co finds past the NUL", async () => {
    const spaced = `legacy-space-${tag}`;
    const nul = `legacy-nul-${tag}`;
    await insertLegacy(spaced, `old${tag} `, `old${tag} `, 1);
    await insertLegacy(nul, `nul${tag}\u0000filo@x`, `nul${tag}\u0000filo@x`, 1);
    for (const id of [spaced, nul]) {
      const res = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "active", value: false })), 200);
      expect(res.active).toBe(false);
    }
    // The trigram index holds U+FFFD for the NUL, so a search past it still finds the row.
    expect(await found(`userName co "ilo@x" and userName sw "nul${tag}"`)).toEqual([`nul${tag}\u0000filo@x`]);
    expect(await found(`userName co "${tag}\\u0000fil"`)).toEqual([`nul${tag}\u0000filo@x`]);
    expect(await found(`userName sw "nul${tag}\\u0000f"`)).toEqual([`nul${tag}\u0000filo@x`]);
    expect(await found(`userName ew "\\u0000filo@x" and userName sw "nul${tag}"`)).toEqual([`nul${tag}\u0000filo@x`]);
  });

  it("are refolded by the cron; two that the new fold makes one are both kept, one recorded as the other's duplicate", async () => {
    const a = `legacy-a-${tag}`;
    const b = `legacy-b-${tag}`;
    // The old fold (NFKC, toLowerCase) kept these apart: ς at the end, σ in the middle.
    await insertLegacy(a, `ΛΟΓΟΣ@${tag}.old`, `λογος@${tag}.old`);
    await insertLegacy(b, `λογοσ@${tag}.old`, `λογοσ@${tag}.old`);
    expect(await backfillFolded(getDb(env.DB), 30_000)).toBeGreaterThanOrEqual(2);
    const rows = (
      await env.DB.prepare("SELECT id, user_name_norm, user_name_dup, fold_version, data_fold FROM users WHERE id IN (?, ?) ORDER BY seq")
        .bind(a, b)
        .all<{ id: string; user_name_norm: string; user_name_dup: string | null; fold_version: number; data_fold: string }>()
    ).results;
    expect(rows.map((r) => r.user_name_norm)).toEqual([`λογοσ@${tag}.old`, `λογοσ@${tag}.old`]);
    expect(rows.map((r) => r.fold_version)).toEqual([1, 1]);
    expect(rows.filter((r) => r.user_name_dup !== null)).toHaveLength(1);
    // Both can still be written (a deactivation must never fail), and both are found by the name.
    for (const id of [a, b])
      await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "active", value: false })), 200);
    expect((await found(`userName co "λογοσ@${tag}.old"`)).length).toBe(2);
    // A new user of that name is still refused.
    await expectScimError(await scim("POST", "/Users", { userName: `ΛΟΓΟΣ@${tag}.OLD` }), 409, "uniqueness");
    // Nothing is left to refold.
    const left = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE fold_version < 1").first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("groups stored before the fold", () => {
  it("are refolded too: displayName eq finds a group by its new fold", async () => {
    const id = `legacy-group-${tag}`;
    const name = `ΟΜΑΔΑ ΛΟΓΟΣ ${tag}`;
    await env.DB.prepare(
      `INSERT INTO groups (id, display_name, display_name_norm, external_id, data, version, created_at, updated_at)
       VALUES (?, ?, ?, NULL, ?, 1, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')`,
    )
      .bind(id, name, name.normalize("NFKC").toLowerCase(), JSON.stringify({ displayName: name }))
      .run();
    const byName = async () =>
      (await expectStatus(await scim("GET", `/Groups?filter=${encodeURIComponent(`displayName eq "ομαδα λογοσ ${tag}"`)}`), 200))
        .totalResults as number;
    expect(await byName()).toBe(0);
    await backfillFolded(getDb(env.DB), 30_000);
    expect(await byName()).toBe(1);
  });
});
