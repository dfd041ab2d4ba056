import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { USER_SQL_TARGET } from "../../src/db/filter-sql";
import { selectUserMatch, selectUserPage } from "../../src/db/lists";
import { selectUserById } from "../../src/db/users";

/**
 * User reads (GET by id, a lookup, list pages, a write's load) carry only what a user's state is
 * made of: never the password hash, and not the folded copy or the indexed columns, which would
 * about double every row D1 sends.
 */
const db = getDb(env.DB);
const selected = (query: string) => query.slice(0, query.search(/ from /i));

describe("user reads select the state's columns only", () => {
  it.each([
    ["GET by id and a write's load", selectUserById(db, "x").toSQL().sql],
    [
      "a list page",
      selectUserPage(
        db,
        USER_SQL_TARGET,
        {
          where: sql`1`,
          sort: { key: undefined, descending: false, nullable: false },
          from: undefined,
          offset: 0,
          count: 100,
          lookahead: 0,
          budget: 1,
          method: "index",
        },
        true,
        20,
      ).toSQL().sql,
    ],
    ["a lookup by userName", selectUserMatch(db, sql`1`, true).toSQL().sql],
  ])("%s", (_, query) => {
    const list = selected(query);
    for (const column of ["password_hash", "data_fold", "user_name_norm", "email_norm"]) expect(list).not.toContain(`"${column}"`);
    for (const column of ["id", "user_name", "data", "active", "role", "version", "created_at", "updated_at"])
      expect(list).toContain(`"${column}"`);
  });
});
