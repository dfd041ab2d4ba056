import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { expectedIndexRow, TEXT_INDEX_VIEW_SQL } from "../../src/db/text-index";
import { expectStatus, scim, setSettings } from "../helpers";

/**
 * The SQL that fills the trigram index (the view users_fts_source and its triggers, migrations)
 * and the TypeScript that writes the folded columns and searches the index (src/resources/user.ts,
 * src/db/text-index.ts) describe one thing twice: these tests hold them to each other.
 */
beforeAll(async () => {
  await setSettings();
});

describe("the view in D1 is the view src/db/text-index.ts describes", () => {
  it("has exactly its text", async () => {
    const row = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'users_fts_source'").first<{
      sql: string;
    }>();
    expect(row?.sql).toBe(TEXT_INDEX_VIEW_SQL);
  });

  it("both triggers read it", async () => {
    const { results } = await env.DB.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'").all<{
      name: string;
      sql: string;
    }>();
    const byName = Object.fromEntries(results.map((r) => [r.name, r.sql]));
    expect(byName.users_fts_insert).toContain("FROM `users_fts_source` WHERE seq = new.seq");
    expect(byName.users_fts_update).toContain("FROM `users_fts_source` WHERE seq = new.seq");
    expect(byName.users_fts_delete).toContain("DELETE FROM `users_fts` WHERE rowid = old.seq");
  });
});

/** Text as hostile as a userName or a name can be: controls (NUL), quotes, combining marks, sigma, ß, emoji. */
const piece = fc.constantFrom(
  "a",
  "Z",
  "Σ",
  "ς",
  "ß",
  "ẞ",
  "e\u0301",
  "\u0000",
  "\u0001",
  "\u007f",
  "\t",
  "\n",
  '"',
  "\\",
  "İ",
  "ﬁ",
  "😀",
  "\u200D",
  "ｆ",
  " ",
  "@",
  "%",
  "_",
);
const text = fc.array(piece, { minLength: 1, maxLength: 12 }).map((p) => p.join(""));

describe("every user's index row is what the TypeScript side expects", () => {
  it("for random users written through SCIM (controls, NUL, quotes, combining marks, sigma)", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(text, text, text, fc.array(text, { maxLength: 3 }), async (displayName, given, family, emails) => {
        n++;
        const body = {
          userName: `idx-${crypto.randomUUID()}@x`,
          displayName,
          name: { givenName: given, familyName: family },
          emails: emails.map((value, i) => ({ value, ...(i === 1 ? { primary: true } : {}) })),
        };
        const created = await expectStatus(await scim("POST", "/Users", body), 201);
        const row = await env.DB.prepare("SELECT seq, user_name_norm, email_norm, data_fold FROM users WHERE id = ?")
          .bind(created.id as string)
          .first<{ seq: number; user_name_norm: string; email_norm: string | null; data_fold: string }>();
        if (!row) throw new Error("no row");
        const indexed = await env.DB.prepare(
          "SELECT user_name, display_name, given_name, family_name, emails FROM users_fts WHERE rowid = ?",
        )
          .bind(row.seq)
          .first();
        expect(indexed).toEqual(expectedIndexRow({ userNameNorm: row.user_name_norm, emailNorm: row.email_norm, dataFold: row.data_fold }));
      }),
      { numRuns: 60 },
    );
    expect(n).toBe(60);
  }, 120_000);
});
