import { Hono } from "hono";
import { searchUsers } from "../db/admin-queries";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { query, queryObject, validate } from "../http/validate";

/** Longer than any name or email an admin types; the search is instr(), so length costs nothing. */
const MAX_Q = 200;

const usersQuery = queryObject({
  q: query.optional(query.text(MAX_Q)),
  limit: query.int(1, 200, 50),
  cursor: query.cursor(),
});

/**
 * GET /admin/api/users?q= (SPEC §10): people, not UUIDs. Finds users by userName, email, name or
 * externalId, case-insensitively, newest first; each links to its timeline in the admin page.
 */
export const usersAdminRoutes = new Hono<AppEnv>().get("/users", validate("query", usersQuery), async (c) => {
  const page = await searchUsers(getDb(c.env.DB), c.req.valid("query"));
  return c.json({ users: page.rows, nextCursor: page.nextCursor });
});
