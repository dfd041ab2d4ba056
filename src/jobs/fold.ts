import type { Db } from "../db/client";
import { fillFolded, selectUnfolded, storedUserData } from "../db/users";
import { foldedDocument } from "../scim/fold";
import { USER_RESOURCE } from "../scim/schemas";

/** Rows per read and per write: two D1 queries per chunk. */
const FOLD_CHUNK = 500;
/** At most this many chunks per cron run (D1 allows 1,000 queries per invocation). */
const MAX_CHUNKS = 100;

/**
 * Cron: fills in the folded copy (data_fold) of users written before it existed, so filters
 * on their caseExact:false attributes compare Unicode-folded, not ASCII-only. Runs until none
 * is left or its time is up; the next minute goes on. Every write sets data_fold itself, so
 * once done this costs one index probe of an empty partial index per minute.
 */
export async function backfillFolded(db: Db, budgetMs: number): Promise<number> {
  const deadline = Date.now() + budgetMs;
  let filled = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS && Date.now() < deadline; chunk++) {
    const rows = await selectUnfolded(db, FOLD_CHUNK);
    if (rows.length === 0) break;
    const folds = rows.map((row) => ({
      seq: row.seq,
      version: row.version,
      fold: JSON.stringify(foldedDocument(storedUserData(row), USER_RESOURCE)),
    }));
    await fillFolded(db, folds);
    filled += rows.length;
    if (rows.length < FOLD_CHUNK) break;
  }
  return filled;
}
