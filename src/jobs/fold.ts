import type { Db } from "../db/client";
import { type Refold, selectStaleFolds, selectStaleGroupFolds, writeGroupRefolds, writeRefolds } from "../db/fold";
import { storedUserData } from "../db/users";
import { FOLD_VERSION, foldedColumns } from "../resources/user";
import { foldCase } from "../scim/text";

/** Rows per read and per write: two D1 queries per chunk. */
const FOLD_CHUNK = 500;
/** At most this many chunks per cron run (D1 allows 1,000 queries per invocation). */
const MAX_CHUNKS = 100;

/**
 * Cron: brings the folded columns (user_name_norm, email_norm, data_fold) of users written with an
 * older fold, or before data_fold existed, and groups' display_name_norm, up to the current one (FOLD_VERSION, src/scim/text.ts),
 * so uniqueness, lookups and filters compare every row the same way. Runs until none is left or its
 * time is up; the next minute goes on. Every write folds its row itself, so once done this costs
 * one probe of an empty partial index per minute.
 *
 * Safe on any data: a row changed since it was read is left to its own write; two users that the
 * new fold makes one (ΟΔΟΣ@x and οδοσ@x, both created before) are both kept, the later one
 * recorded as a duplicate of the other (src/db/fold.ts), and the admin page shows them.
 */
export async function backfillFolded(db: Db, budgetMs: number): Promise<number> {
  const deadline = Date.now() + budgetMs;
  let done = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS && Date.now() < deadline; chunk++) {
    const rows = await selectStaleFolds(db, FOLD_VERSION, FOLD_CHUNK);
    if (rows.length === 0) break;
    const folded = rows.map((row) => ({ row, cols: foldedColumns(storedUserData(row)) }));
    // Of the rows of a chunk that fold to one key, one keeps it: the one that holds it already if
    // any (it is in the unique index as it is, so no row ever takes the key from under it
    // mid-statement), else the oldest. An old key that the new fold changes is never a new key
    // (a fold is its own fold), so no other collision can happen inside the statement.
    const owner = new Map<string, number>();
    for (const { row, cols } of folded) {
      // At most one row holds a key (the unique index), so a holder always wins.
      if (!owner.has(cols.userNameNorm) || row.userNameNorm === cols.userNameNorm) owner.set(cols.userNameNorm, row.seq);
    }
    const refolds: Refold[] = folded.map(({ row, cols }) => ({
      seq: row.seq,
      version: row.version,
      ...cols,
      dupInChunk: owner.get(cols.userNameNorm) !== row.seq,
    }));
    await writeRefolds(db, refolds);
    done += rows.length;
    if (rows.length < FOLD_CHUNK) break;
  }
  // Then groups' display_name_norm (not unique: no duplicates to record).
  for (let chunk = 0; chunk < MAX_CHUNKS && Date.now() < deadline; chunk++) {
    const rows = await selectStaleGroupFolds(db, FOLD_VERSION, FOLD_CHUNK);
    if (rows.length === 0) break;
    await writeGroupRefolds(
      db,
      rows.map((g) => ({ seq: g.seq, version: g.version, displayNameNorm: foldCase(g.displayName), foldVersion: FOLD_VERSION })),
    );
    done += rows.length;
    if (rows.length < FOLD_CHUNK) break;
  }
  return done;
}
