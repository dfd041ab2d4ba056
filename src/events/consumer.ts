import { and, eq, inArray, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import { type Db, getDb } from "../db/client";
import { deliveryProgress, events, siteFeed } from "../db/schema";
import { idsIn } from "../db/sql";
import type { Bindings } from "../env";
import { type EventState, IN_FLIGHT, SENDABLE } from "../lifecycle/events";
import { loadSettings } from "../settings/store";
import { isLastAttempt, retryDelaySeconds, verdictFor } from "./backoff";
import { DELIVERY_TIMEOUT_MS, type DeliveryTarget, postWebhook } from "./deliver";
import { disagreement, parseSiteView } from "./reconcile";
import { decodeSigningSecret } from "./signing";
import { SYNCED_EVENT_TYPES } from "./types";

type EventRow = typeof events.$inferSelect;

/** One event message of a batch: the message, and the outbox event it asks to deliver. */
export type Received = { msg: Message<unknown>; eventId: string };

/** Where deliveries go, or why they cannot go anywhere (SPEC §2: unset URL → undeliverable). */
function deliveryTarget(
  env: Pick<Bindings, "MAIN_SITE_URL" | "MAIN_SITE_SIGNING_SECRET" | "MAIN_SITE_SIGNING_SECRET_NEXT">,
): DeliveryTarget | { problem: string } {
  const url = env.MAIN_SITE_URL?.trim() ?? "";
  if (url === "") return { problem: "MAIN_SITE_URL is not set; set it, then redeliver." };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: "MAIN_SITE_URL is not an absolute URL; fix it, then redeliver." };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return { problem: "MAIN_SITE_URL must be an http(s) URL; fix it, then redeliver." };
  }
  const secret = env.MAIN_SITE_SIGNING_SECRET?.trim() ?? "";
  if (secret === "") return { problem: "MAIN_SITE_SIGNING_SECRET is not set; set it, then redeliver." };
  try {
    decodeSigningSecret(secret);
  } catch (err) {
    return { problem: `${err instanceof Error ? err.message : String(err)} Fix it, then redeliver.` };
  }
  // While set, every delivery carries its signature too (a rotation without a gap); one that is
  // not usable stops deliveries like a broken current secret does, rather than silently skipping it.
  const nextSecret = env.MAIN_SITE_SIGNING_SECRET_NEXT?.trim() ?? "";
  if (nextSecret === "") return { url, secret };
  try {
    decodeSigningSecret(nextSecret, "MAIN_SITE_SIGNING_SECRET_NEXT");
  } catch (err) {
    return { problem: `${err instanceof Error ? err.message : String(err)} Fix it (or delete it), then redeliver.` };
  }
  return { url, secret, nextSecret };
}

/**
 * The batch's events, read in one round trip with the consumer's progress: the newest queue
 * timestamp among these messages and the time of this batch. The sweeper compares an in-flight
 * event's due time with them to tell a lost message from a backlog (sweeper.ts).
 */
async function loadRows(db: Db, messages: Received[]): Promise<Map<string, EventRow>> {
  const ids = [...new Set(messages.map((m) => m.eventId))];
  const now = Date.now();
  const reached = new Date(Math.max(0, ...messages.map((m) => m.msg.timestamp.getTime()))).toISOString();
  // Taken now: each in-flight event of the batch is due again only once it cannot still be waiting
  // its turn here (every POST before it may take the whole delivery timeout), so the sweeper never
  // takes an event of a slow batch for a lost one.
  const due = JSON.stringify(ids.map((id, i) => ({ id, due: new Date(now + (i + 1) * DELIVERY_TIMEOUT_MS + 60_000).toISOString() })));
  const dueOf = sql`(SELECT json_extract(d.value, '$.due') FROM json_each(${due}) AS d WHERE json_extract(d.value, '$.id') = ${events.id})`;
  const [found] = await db.batch([
    db
      .select()
      .from(events)
      .where(sql`${events.id} IN ${idsIn(ids)}`),
    db
      .insert(deliveryProgress)
      .values({ id: 1, reached, lastBatchAt: new Date(now).toISOString() })
      .onConflictDoUpdate({
        target: deliveryProgress.id,
        set: { reached: sql`max(${deliveryProgress.reached}, excluded.reached)`, lastBatchAt: new Date(now).toISOString() },
      }),
    db
      .update(events)
      .set({ dueAt: dueOf })
      .where(and(sql`${events.id} IN ${idsIn(ids)}`, inArray(events.state, [...IN_FLIGHT]))),
  ]);
  return new Map(found.map((row) => [row.id, row]));
}

/**
 * Delivery (SPEC §9): one signed POST per event, in the order the queue gave them. Delivery is at
 * least once: every step is idempotent, and the site de-duplicates on webhook-id, which is the
 * event id on every attempt and every redelivery.
 */
export async function deliverBatch(messages: Received[], env: Bindings): Promise<void> {
  const db = getDb(env.DB);
  let rows: Map<string, EventRow>;
  let pull: boolean;
  try {
    rows = await loadRows(db, messages);
    // Cached per isolate (src/settings/store.ts): a switch of siteDelivery is seen within 5 s.
    pull = (await loadSettings(db)).siteDelivery === "pull";
  } catch (err) {
    log("error", "could not read events; batch will be retried", { err: String(err) });
    for (const { msg } of messages) msg.retry();
    return;
  }
  if (pull) {
    // Pull mode: the site reads the feed; nothing is POSTed, and no event is ever undeliverable.
    const read = sql`${events.feedPosition} <= (SELECT read_through FROM ${siteFeed} WHERE id = 1)`;
    const at = new Date().toISOString();
    await settleBatch(db, messages, rows, {
      state: sql`CASE WHEN ${read} THEN 'delivered' ELSE 'awaiting_pull' END`,
      deliveredAt: sql`CASE WHEN ${read} THEN ${at} ELSE ${events.deliveredAt} END`,
      dueAt: null,
      updatedAt: at,
    });
    return;
  }
  const target = deliveryTarget(env);
  if ("problem" in target) {
    await settleBatch(db, messages, rows, { state: "undeliverable", lastError: target.problem, updatedAt: new Date().toISOString() });
    return;
  }
  const seen = new Set<string>();
  // One at a time, in the order the queue gave them: the site sees this batch's events in order.
  for (const { msg, eventId } of messages) {
    const row = rows.get(eventId);
    if (seen.has(eventId)) {
      msg.ack(); // the same event twice in one batch (sweeper re-send racing the first send)
      continue;
    }
    seen.add(eventId);
    try {
      await deliverOne(db, msg, eventId, row, target);
    } catch (err) {
      log("error", "delivery bookkeeping failed; message will be retried", { eventId, err: String(err) });
      msg.retry();
    }
  }
}

async function deliverOne(
  db: Db,
  msg: Message<unknown>,
  eventId: string,
  row: EventRow | undefined,
  target: DeliveryTarget,
): Promise<void> {
  if (!row) {
    log("warn", "message for an unknown event acked", { eventId });
    msg.ack();
    return;
  }
  if (!(SENDABLE as readonly EventState[]).includes(row.state)) {
    msg.ack();
    return;
  }

  const synced = SYNCED_EVENT_TYPES.some((t) => t === row.type);
  const attempt = await postWebhook(target, eventId, row.payload, { readAnswer: synced });
  const now = new Date().toISOString();
  const counted = { attempts: sql`${events.attempts} + 1`, lastStatus: attempt.status, updatedAt: now };
  switch (verdictFor(attempt.status)) {
    case "delivered": {
      // A resync's reconcile: the site's own view, kept where it differs from the directory's.
      // An answer without a view (a redelivery the site saw before) leaves what an earlier one said.
      const view = synced && parseSiteView(attempt.answer) !== null;
      const differs = view ? disagreement(row.payload, attempt.answer) : null;
      const siteView = view ? { siteView: differs ? JSON.stringify(differs) : null } : {};
      await transition(db, eventId, SENDABLE, { ...counted, state: "delivered", lastError: null, deliveredAt: now, ...siteView });
      msg.ack();
      return;
    }
    case "rejected":
      // The site refused this event as such (4xx): repeating it verbatim cannot help.
      await transition(db, eventId, SENDABLE, { ...counted, state: "rejected", lastError: attempt.error });
      log("warn", "event rejected by the main site", { eventId, status: attempt.status, error: attempt.error });
      msg.ack();
      return;
    case "retry": {
      const delaySeconds = retryDelaySeconds(msg.attempts, attempt.retryAfter, Date.now());
      // Absolute, so it reads right whenever it is read; dueAt lets the sweeper find a lost retry.
      const dueAt = new Date(Date.now() + delaySeconds * 1000).toISOString();
      const last = isLastAttempt(msg.attempts) ? " (last attempt: moving to scim-events-dlq)" : ` (next attempt at ${dueAt})`;
      await transition(db, eventId, SENDABLE, { ...counted, state: "retrying", dueAt, lastError: `${attempt.error ?? "failed"}${last}` });
      msg.retry({ delaySeconds });
      return;
    }
  }
}

/**
 * Settles the batch's sendable events in one statement and acks every message, without a POST:
 * - no delivery target (SPEC §2: MAIN_SITE_URL unset, or the secret unusable): undeliverable,
 *   kept, never dropped: the admin page lists them and redeliver sends them once it is configured;
 * - pull mode (siteDelivery): awaiting_pull, for the site to read from the feed; delivered when
 *   the site's cursor is already past it (a redelivery of an event it has read).
 */
async function settleBatch(
  db: Db,
  messages: { msg: Message<unknown>; eventId: string }[],
  rows: Map<string, EventRow>,
  set: SQLiteUpdateSetSource<typeof events>,
): Promise<void> {
  const sendable = (id: string) => (SENDABLE as readonly (EventState | undefined)[]).includes(rows.get(id)?.state);
  const ids = [...new Set(messages.map((m) => m.eventId).filter(sendable))];
  if (ids.length > 0) {
    try {
      await db
        .update(events)
        .set(set)
        .where(and(sql`${events.id} IN ${idsIn(ids)}`, inArray(events.state, [...SENDABLE])));
    } catch (err) {
      log("error", "could not settle events; batch will be retried", { ids, err: String(err) });
      for (const { msg, eventId } of messages) {
        if (ids.includes(eventId)) msg.retry();
        else msg.ack();
      }
      return;
    }
  }
  for (const { msg, eventId } of messages) {
    if (!rows.has(eventId)) log("warn", "message for an unknown event acked", { eventId });
    msg.ack();
  }
}

/** A conditional update: the row changes only while it is in one of `from` (idempotent). */
async function transition(
  db: Db,
  eventId: string,
  from: readonly EventState[],
  set: SQLiteUpdateSetSource<typeof events> & { state: EventState },
): Promise<void> {
  await db
    .update(events)
    .set({ updatedAt: new Date().toISOString(), ...set })
    .where(and(eq(events.id, eventId), inArray(events.state, [...from])));
}

/** scim-events-dlq: the queue gave up on these after the last retry; record them as dead. */
export async function markDead(messages: Received[], db: Db): Promise<void> {
  const ids = [...new Set(messages.map((m) => m.eventId))];
  let dead: { id: string }[];
  try {
    dead = await db
      .update(events)
      .set({
        state: "dead",
        lastError: sql`coalesce(${events.lastError}, 'retries exhausted')`,
        updatedAt: new Date().toISOString(),
      })
      .where(and(sql`${events.id} IN ${idsIn(ids)}`, inArray(events.state, [...IN_FLIGHT])))
      .returning({ id: events.id });
  } catch (err) {
    log("error", "could not mark events dead; DLQ batch will be retried", { err: String(err) });
    for (const { msg } of messages) msg.retry();
    return;
  }
  // Events already delivered/rejected/discarded by another copy of the message stay as they are.
  if (dead.length > 0) log("warn", "events dead after the last retry; redeliver them from the admin page", { ids: dead.map((r) => r.id) });
  for (const { msg } of messages) msg.ack();
}

export function preview(body: unknown): string {
  try {
    return JSON.stringify(body).slice(0, 200);
  } catch {
    return String(body).slice(0, 200);
  }
}

export function log(level: "warn" | "error", message: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === "error") console.error(line);
  else console.warn(line);
}
