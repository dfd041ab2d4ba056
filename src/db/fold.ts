import { asc, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { groups, users } from "./schema";

/** Rows folded with an older fold than `version` (users_refold_idx), oldest first. */
export const selectStaleFolds = (db: Db, version: number, limit: number) =>
  db
    .select({ seq: users.seq, version: users.version, data: users.data, userName: users.userName, userNameNorm: users.userNameNorm })
    .from(users)
    .where(lt(users.foldVersion, version))
    .orderBy(asc(users.seq))
    .limit(limit);

export interface Refold {
  seq: number;
  version: number;
  userNameNorm: string;
  emailNorm: string | null;
  dataFold: string;
  foldVersion: number;
  /** Another row of the same chunk keeps this userName key (src/jobs/fold.ts decides which). */
  dupInChunk: boolean;
}

/**
 * Writes many rows' folded columns in ONE statement (their values as one JSON parameter). A row
 * written since it was read (its version moved) is left alone: that write folded it itself. A row
 * whose new userName key another user already holds (one not itself a recorded duplicate), or an
 * earlier row of the chunk takes, is recorded as a duplicate of it (users.user_name_dup), which
 * keeps it out of the uniqueness instead of failing the statement.
 */
export function writeRefolds(db: Db, rows: readonly Refold[]) {
  const v = (key: keyof Refold) => sql.raw(`json_extract(f.value, '$.${key}')`);
  const chunk = JSON.stringify(rows);
  // Rows of the chunk are settled by dupInChunk; any other holder of the key makes this one a duplicate.
  const taken = sql`(${v("dupInChunk")} OR EXISTS (SELECT 1 FROM ${users} o WHERE o.user_name_norm = ${v("userNameNorm")}
    AND o.user_name_dup IS NOT o.user_name_norm AND o.seq NOT IN (SELECT json_extract(c.value, '$.seq') FROM json_each(${chunk}) AS c)))`;
  return db.run(sql`UPDATE ${users} SET
      user_name_dup = CASE WHEN ${taken} THEN ${v("userNameNorm")} ELSE NULL END,
      user_name_norm = ${v("userNameNorm")},
      email_norm = ${v("emailNorm")},
      data_fold = ${v("dataFold")},
      fold_version = ${v("foldVersion")}
    FROM json_each(${chunk}) AS f
    WHERE ${users.seq} = ${v("seq")} AND ${users.version} = ${v("version")}`);
}

/** Groups not yet refolded to `version` (groups_refold_idx), oldest first. */
export const selectStaleGroupFolds = (db: Db, version: number, limit: number) =>
  db
    .select({ seq: groups.seq, version: groups.version, displayName: groups.displayName })
    .from(groups)
    .where(lt(groups.foldVersion, version))
    .orderBy(asc(groups.seq))
    .limit(limit);

/** Writes groups' display_name_norm in ONE statement; a group written since it was read keeps its own. */
export const writeGroupRefolds = (
  db: Db,
  rows: readonly { seq: number; version: number; displayNameNorm: string; foldVersion: number }[],
) =>
  db.run(sql`UPDATE ${groups} SET display_name_norm = json_extract(f.value, '$.displayNameNorm'), fold_version = json_extract(f.value, '$.foldVersion')
    FROM json_each(${JSON.stringify(rows)}) AS f
    WHERE ${groups.seq} = json_extract(f.value, '$.seq') AND ${groups.version} = json_extract(f.value, '$.version')`);
