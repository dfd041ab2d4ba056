import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { events } from "../db/schema";
import { idsIn } from "../db/sql";
import type { Bindings } from "../env";
import { type NewEvent, newEventId, outboxInsert, sendCommitted, stampQueued } from "../events/outbox";
import type { LogEntry } from "../log/entry";
import { ScimError } from "../scim/errors";
import { checkIfMatch } from "../scim/etag";
import type { Settings } from "../settings/model";
import { invalidateSettingsCache, loadVersionedSettings } from "../settings/store";
import { type Cas, type Statement, settingsUnchanged } from "./cas";

export type { Statement } from "./cas";

/**
 * The write kernel: what every change (a user, a group, a role, the settings) needs, and knows
 * of no resource. A change is the compare-and-set writes of the rows it read (src/write/cas.ts,
 * which the kernel puts first in the batch), its other statements, the outbox events that record
 * it and the log row of the request that made it, committed as one D1 batch (all or nothing);
 * then its events go on the queue. A batch that fails is explained by reading what the database
 * holds (`explain`), never by matching the text of D1's error.
 */
export interface WriteContext {
  db: Db;
  queue: Bindings["EVENTS"];
  /** The settings the write decides with; a retry after they changed reads them again. */
  settings: Settings;
  /** Their version, checked in the write's batch (src/write/cas.ts settingsUnchanged). */
  settingsVersion: number;
  /** Absolute SCIM base URL: event payloads carry meta.location. */
  baseUrl: string;
  /** This operation's provisioning-log entry: its row goes into the write's batch. */
  log: LogEntry;
  /** The If-Match header, if any: a stale one is 412 and disables the conflict retry. */
  ifMatch: string | undefined;
  waitUntil: (p: Promise<unknown>) => void;
}

export interface Change {
  /** Compare-and-set writes of the rows this change read and rewrites (or deletes). */
  cas: Cas[];
  /** Everything else: new rows, membership rows, outbox events. */
  statements: Statement[];
  /** Ids of the outbox events among the statements (`eventStatement`). */
  eventIds: string[];
  /**
   * A unique value the change takes (a user's folded userName): `check` reads one row `{ holds }`,
   * 1 while nobody else has it, and a failed batch whose value is taken throws `error()`.
   */
  claim?: { check: Statement; error: () => Error };
}

/** Another writer changed a row this change read: the change was not applied; read again. */
export class WriteConflict extends Error {
  override readonly name = "WriteConflict";
  constructor(
    /** Only the settings moved, not a row the change read (If-Match still holds). */
    readonly onlySettings = false,
  ) {
    super(onlySettings ? "the settings changed while this change was decided" : "a row this change read was changed by another writer");
  }
}

/** One outbox event of a change, for its batch; the id goes into `Change.eventIds`. */
export function eventStatement(
  ctx: Pick<WriteContext, "db" | "settings">,
  event: Omit<NewEvent, "id">,
  at: Date,
): { statement: Statement; id: string } {
  const id = newEventId();
  return { statement: outboxInsert(ctx.db, { ...event, id }, ctx.settings, at), id };
}

type Outcome =
  /** The batch committed but its answer was lost: these of its events are queued to send. */
  | { kind: "committed"; queued: string[] }
  | { kind: "conflict"; onlySettings: boolean }
  | { kind: "claimed"; error: Error }
  | { kind: "failed" };

const holds = (rows: unknown): boolean => Number((rows as { holds?: unknown }[])[0]?.holds) === 1;

/**
 * Why a batch failed, by reading the database in one round trip: it landed (its own mark, the log
 * row it wrote or a job's cursor, is there; without one, its events: it committed and only the
 * answer was lost), its unique value belongs to another, one of the rows it read has moved on (a
 * conflict), or none of these (D1 itself failed). Unknown when even this read fails: the sweeper
 * then finds any committed events.
 */
async function explain(db: Db, change: Change, mark: Statement | undefined): Promise<Outcome | undefined> {
  const marks = mark ? [mark] : change.cas.flatMap((c) => (c.landed ? [c.landed] : []));
  const reads: Statement[] = [
    db
      .select({ id: events.id, state: events.state })
      .from(events)
      .where(sql`${events.id} IN ${idsIn(change.eventIds)}`),
    ...marks,
    ...(change.claim ? [change.claim.check] : []),
    ...change.cas.map((c) => c.check),
  ];
  let results: readonly unknown[];
  try {
    results = await db.batch(reads as [Statement, ...Statement[]]);
  } catch {
    return undefined;
  }
  const found = (results[0] ?? []) as { id: string; state: string }[];
  // Its own marks, where it has them, say whether this batch landed; else its events do (their ids are its own).
  const landed = marks.length ? results.slice(1, 1 + marks.length).every(holds) : found.length > 0;
  if (landed) return { kind: "committed", queued: found.filter((e) => e.state === "queued").map((e) => e.id) };
  const rest = results.slice(1 + marks.length);
  if (change.claim && !holds(rest.shift())) return { kind: "claimed", error: change.claim.error() };
  const moved = change.cas.filter((_, i) => !holds(rest[i]));
  return moved.length === 0 ? { kind: "failed" } : { kind: "conflict", onlySettings: moved.every((c) => c.settings === true) };
}

/**
 * Runs a change's batch with `tail` after it; returns the tail's results. A failure is explained:
 * a conflict throws WriteConflict, a taken unique value its claim's error, and anything else the
 * original error (after sending what committed, when the answer alone was lost). `mark` reads
 * whether this batch's own row (its log row) exists.
 */
async function execute(
  db: Db,
  change: Change,
  tail: Statement[],
  send: (ids: string[]) => Promise<void> | void,
  mark?: Statement,
): Promise<readonly unknown[]> {
  const batch: Statement[] = [...change.cas.flatMap((c) => c.statements), ...change.statements, ...tail];
  try {
    const results = await db.batch(batch as [Statement, ...Statement[]]);
    return results.slice(results.length - tail.length);
  } catch (err) {
    const outcome = await explain(db, change, mark);
    if (outcome?.kind === "conflict") throw new WriteConflict(outcome.onlySettings);
    if (outcome?.kind === "claimed") throw outcome.error;
    if (outcome?.kind === "committed") await send(outcome.queued);
    throw err;
  }
}

/**
 * A background chunk's batch (src/jobs/): the change, then the stamp of its queued events,
 * committed as one; then those events go on the queue. The chunk's runner awaits it (no request
 * to answer first); a failure throws (WriteConflict when another writer got there first).
 */
export async function commitAndSend(db: Db, queue: Bindings["EVENTS"], change: Change, at: string): Promise<void> {
  const [queued] = await execute(db, change, [stampQueued(db, change.eventIds, at)], (ids) => sendCommitted(db, queue, ids));
  await sendCommitted(
    db,
    queue,
    ((queued ?? []) as { id: string }[]).map((r) => r.id),
  );
}

/**
 * A change without events (the settings): its batch, then its log row (whose presence tells,
 * after a lost answer, that it landed). Throws WriteConflict when another writer got there first.
 */
export async function commitPlain(db: Db, change: Change, log: LogEntry, at: string): Promise<void> {
  await execute(db, change, [log.statement(db, log.successStatus, { at })], () => undefined, log.landed(db, at));
  log.written = true;
}

/**
 * One D1 batch: the change, its outbox rows (queued), and then its log row (which can then say
 * whether the guard held any of the events); afterwards those events go on the queue with no
 * further D1 call (the batch's last statement returns the ids to send).
 */
export async function commit(ctx: WriteContext, change: Change): Promise<void> {
  const { db } = ctx;
  const at = new Date().toISOString();
  const tail = [ctx.log.statement(db, ctx.log.successStatus, { eventIds: change.eventIds, at }), stampQueued(db, change.eventIds, at)];
  const send = (ids: string[]) => ctx.waitUntil(sendCommitted(db, ctx.queue, ids));
  // Decided with these settings: a save in between makes it decide again (retryOnConflict reloads them).
  const guarded = { ...change, cas: [...change.cas, settingsUnchanged(db, ctx.settingsVersion)] };
  const [, queued] = await execute(db, guarded, tail, send, ctx.log.landed(db, at));
  ctx.log.written = true;
  send(((queued ?? []) as { id: string }[]).map((r) => r.id));
}

/**
 * Retries after a conflict run on a time budget, each after a random pause drawn from a window that
 * doubles (full jitter): writers that collided spread out instead of colliding again, and a burst
 * of N parallel writes to one resource (Entra sends a group's membership in parallel) gets through
 * in about N rounds instead of failing after a fixed few.
 */
const RETRY_BUDGET_MS = 4_000;
const MAX_ATTEMPTS = 16;
const FIRST_WINDOW_MS = 8;
const MAX_WINDOW_MS = 250;

const pauseBeforeRetry = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_WINDOW_MS, FIRST_WINDOW_MS * 2 ** attempt)));

/** How a refused write is answered: SCIM errors by default; the admin API gives its own. */
export type Refusal = (status: 409 | 412, detail: string) => Error;

const scimRefusal: Refusal = (status, detail) => new ScimError(status, undefined, detail);

/**
 * Runs `attempt` again (on a fresh read) while it throws WriteConflict, after a random pause, for
 * up to RETRY_BUDGET_MS; then it is 409. With `ifMatch` the client asked for one version: a
 * conflict on a row it read is then 412, never a retry (one only on the settings is retried: the
 * resource is as the client saw it). `refresh` runs before a retry (the write's settings are read
 * again). What an attempt decided is taken back from the log entry before the next one, so the
 * row says what the write that committed decided.
 */
export async function retryOnConflict<R>(
  ctx: Pick<WriteContext, "log" | "ifMatch">,
  what: string,
  attempt: () => Promise<R>,
  refuse: Refusal = scimRefusal,
  refresh: () => Promise<void> = async () => undefined,
): Promise<R> {
  const mark = ctx.log.mark();
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof WriteConflict)) throw err;
      ctx.log.rewind(mark);
      if (ctx.ifMatch !== undefined && !err.onlySettings) {
        throw refuse(412, `The ${what} changed while this request was applied; GET it again and retry.`);
      }
      if (n >= MAX_ATTEMPTS || Date.now() - started > RETRY_BUDGET_MS) {
        throw refuse(409, `The ${what} is being changed by concurrent requests; retry this request.`);
      }
      ctx.log.decide(
        err.onlySettings ? "decided again: the settings changed meanwhile" : `retried after a concurrent change to the same ${what}`,
      );
      await pauseBeforeRetry(n);
      await refresh();
    }
  }
}

/** A write's settings read again (after they changed under it). */
export async function reloadSettings(ctx: WriteContext): Promise<void> {
  invalidateSettingsCache();
  const { value, version } = await loadVersionedSettings(ctx.db);
  ctx.settings = value;
  ctx.settingsVersion = version;
}

export interface ReadModifyWrite<Loaded, Result> {
  /** "user" or "group", for the errors. */
  what: string;
  /** Reads what the change needs (throws 404 when the resource is gone). */
  load: () => Promise<Loaded>;
  version: (loaded: Loaded) => number;
  /** Decides and commits; its batch's compare-and-set makes a stale decision fail, and it runs again on a fresh load. */
  apply: (loaded: Loaded) => Promise<Result>;
}

/**
 * A read-modify-write: every row it rewrites is compare-and-set against the version it read (the
 * change's `cas`), and a conflict reads and decides again. With If-Match the client asked for one
 * version: a changed resource is 412, not a retry.
 */
export function readModifyWrite<Loaded, Result>(ctx: WriteContext, rmw: ReadModifyWrite<Loaded, Result>): Promise<Result> {
  return retryOnConflict(
    ctx,
    rmw.what,
    async () => {
      const loaded = await rmw.load();
      checkIfMatch(ctx.ifMatch, rmw.version(loaded));
      return rmw.apply(loaded);
    },
    scimRefusal,
    () => reloadSettings(ctx),
  );
}
