import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { FEED_PAGE_BYTES, IN_FEED_SQL } from "../../src/events/feed";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import worker from "../../src/index";
import { DEFAULT_SETTINGS } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import {
  ADMIN_TOKEN,
  admin,
  createUser,
  expectStatus,
  fetchWorker,
  type Json,
  ORIGIN,
  oktaUser,
  ops,
  SCIM_TOKEN,
  scim,
  setSettings,
  uniqueName,
} from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * The pull feed, GET /api/site/v1/events (src/site/api.ts, src/events/feed.ts), through the
 * Worker with the real D1 and queue: its order and cursors, its limits, its token, retention
 * (410), pull mode (nothing POSTed, never undeliverable, a read delivers), and the guard's held
 * events, which enter the feed only when released, after every cursor already given.
 */

const FEED = `${ORIGIN}/api/site/v1/events`;
const SITE_TOKEN = env.SITE_API_TOKEN ?? "";
const SITE = env.MAIN_SITE_URL ?? "";
const pushed = acceptingSite(SITE);

interface Entry {
  id: string;
  type: string;
  timestamp: string;
  data: { id: string; version: number; user?: { active?: boolean } };
}
interface Page {
  data: Entry[];
  nextCursor: string;
  hasMore: boolean;
}

async function feed(query = "", token: string | null = SITE_TOKEN, bindings: Partial<typeof env> = {}): Promise<Response> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const ctx = createExecutionContext();
  const handler = worker.fetch;
  if (!handler) throw new Error("the Worker has no fetch handler");
  const res = await handler(new Request(`${FEED}${query}`, { headers }) as Parameters<typeof handler>[0], { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function page(query = ""): Promise<Page & { text: string }> {
  const res = await feed(query);
  const text = await res.clone().text();
  expect(res.status, text).toBe(200);
  return { ...((await res.json()) as Page), text };
}

const since = (cursor: string, limit = 500) => `?after=${encodeURIComponent(cursor)}&limit=${limit}`;

/** Every entry after `cursor` (from the start without one), page by page, and the last cursor. */
async function readAll(cursor?: string, limit = 500): Promise<{ entries: Entry[]; cursor: string; pages: number }> {
  const entries: Entry[] = [];
  let next = cursor;
  for (let pages = 1; ; pages++) {
    const p = await page(next === undefined ? `?limit=${limit}` : since(next, limit));
    entries.push(...p.data);
    next = p.nextCursor;
    if (!p.hasMore) return { entries, cursor: next, pages };
  }
}

/** The cursor at the feed's end now. */
const headCursor = async () => (await readAll()).cursor;

/** Until no event is on its way by push (pending, queued, retrying). */
async function settled(): Promise<void> {
  await vi.waitUntil(
    async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE state IN ('pending', 'queued', 'retrying')").first<{ n: number }>())
        ?.n === 0,
    { timeout: 20_000, interval: 100 },
  );
}

interface Row {
  id: string;
  type: string;
  state: string;
  position: number | null;
  payload: string;
}
async function rowsOf(resourceId: string): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, type, state, feed_position AS position, payload FROM events WHERE resource_id = ? ORDER BY seq",
  )
    .bind(resourceId)
    .all<Row>();
  return results;
}

async function cron(now = Date.now()): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled?.(createScheduledController({ scheduledTime: now, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const deactivate = ops({ op: "replace", value: { active: false } });
const title = (t: string) => ops({ op: "replace", path: "title", value: t });

describe("the feed's position is the database's: triggers on the lifecycle's published states", () => {
  it("both triggers publish exactly IN_FEED of src/lifecycle/events.ts", async () => {
    const { results } = await env.DB.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").all<{
      name: string;
      sql: string;
    }>();
    const byName = Object.fromEntries(results.map((r) => [r.name, r.sql]));
    expect(byName.events_feed_insert).toContain(`new.state IN (${IN_FEED_SQL})`);
    expect(byName.events_feed_update).toContain(`new.state IN (${IN_FEED_SQL})`);
    expect(byName.events_feed_delete).toContain("`floor` = max(`floor`, old.feed_position)");
  });
});

describe("the site's token", () => {
  it("is required, compared exactly, and nothing else opens the feed (401 with a Bearer challenge)", async () => {
    await setSettings();
    const refused: [string, string | null, Partial<typeof env>][] = [
      ["no Authorization", null, {}],
      ["a wrong token", `${SITE_TOKEN}x`, {}],
      ["a prefix of it", SITE_TOKEN.slice(0, -1), {}],
      ["the SCIM token", SCIM_TOKEN, {}],
      ["the admin token", ADMIN_TOKEN, {}],
      ["an empty token while SITE_API_TOKEN is unset", "", { SITE_API_TOKEN: "" }],
      ["any token while SITE_API_TOKEN is unset", SITE_TOKEN, { SITE_API_TOKEN: " " }],
    ];
    for (const [what, token, bindings] of refused) {
      const res = await feed("", token, bindings);
      const body = await res.clone().text();
      expect(res.status, `${what}: ${body}`).toBe(401);
      expect(res.headers.get("www-authenticate"), what).toMatch(/^Bearer /);
      expect(JSON.parse(body)).toMatchObject({ error: "unauthorized" });
      expect(body, what).not.toContain(SITE_TOKEN);
    }
    // The token without the Bearer scheme, or with another, is no bearer token.
    for (const header of [SITE_TOKEN, `Basic ${SITE_TOKEN}`]) {
      const res = await fetchWorker(FEED, { headers: { Authorization: header } });
      expect(res.status, header).toBe(401);
    }
    const ok = await feed();
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^application\/json/);
    expect(ok.headers.get("cache-control")).toBe("no-store");
  });
});

describe("order, cursors and limits (push mode: the feed beside the webhooks)", () => {
  it("every published event, once, in one order; ids are the webhook ids and each entry is the pushed body byte for byte", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ deprovisionGuard: { maxPerHour: 1_000 } });
    const start = await headCursor();
    const u = await createUser(oktaUser(uniqueName("Feed")));
    const id = u.id as string;
    await expectStatus(await scim("PATCH", `/Users/${id}`, title("Staff")), 200);
    const g = await expectStatus(
      await scim("POST", "/Groups", { displayName: `Feed ${crypto.randomUUID()}`, members: [{ value: id }] }),
      201,
    );
    await expectStatus(await scim("PATCH", `/Users/${id}`, deactivate), 200);
    await expectStatus(await scim("DELETE", `/Users/${id}`), 204);
    await settled();

    const { entries } = await readAll(start);
    const { results: published } = await env.DB.prepare(
      "SELECT id, feed_position AS position FROM events WHERE feed_position IS NOT NULL ORDER BY feed_position",
    ).all<{ id: string; position: number }>();
    const mine = new Set([...(await rowsOf(id)), ...(await rowsOf(g.id as string))].map((r) => r.id));
    const ours = entries.filter((e) => mine.has(e.id));
    expect(ours.map((e) => e.type)).toEqual([
      "user.created",
      "user.updated",
      "group.created",
      "user.deactivated",
      "user.deleted",
      "group.members_removed",
    ]);
    // The feed is the published events in position order, with no gap and no repeat.
    const tail = published.slice(published.findIndex((p) => p.id === entries[0]?.id));
    expect(entries.map((e) => e.id)).toEqual(tail.map((p) => p.id));
    expect(tail.map((p, i) => p.position - (tail[0]?.position ?? 0) - i)).toEqual(tail.map(() => 0));

    // The webhook each got: same id, and the entry is {"id", ...the pushed body as it was sent}.
    const text = (await page(since(start))).text;
    for (const e of ours) {
      const delivery = pushed.find((c) => c.headers["webhook-id"] === e.id);
      expect(delivery, e.id).toBeDefined();
      const body = delivery?.body ?? "";
      expect(text).toContain(`{"id":${JSON.stringify(e.id)},${body.slice(1)}`);
      const { id: _, ...rest } = e;
      expect(rest).toEqual(JSON.parse(body));
    }
  });

  it("pages of any size make the same sequence; the last says hasMore false and its cursor reads nothing new", async () => {
    const start = await headCursor();
    for (let i = 0; i < 5; i++) await createUser(oktaUser(uniqueName("Pages")));
    const whole = await readAll(start, 500);
    expect(whole.entries).toHaveLength(5);
    const byOne = await readAll(start, 1);
    expect(byOne.entries.map((e) => e.id)).toEqual(whole.entries.map((e) => e.id));
    expect(byOne.pages).toBe(5);
    const byTwo = await readAll(start, 2);
    expect(byTwo.entries.map((e) => e.id)).toEqual(whole.entries.map((e) => e.id));
    const first = await page(since(start, 2));
    expect(first.data).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const end = await page(since(whole.cursor));
    expect(end).toMatchObject({ data: [], nextCursor: whole.cursor, hasMore: false });
  });

  it("limit is 1 to 500 (default 100); a page stops before 2 MB of events", { timeout: 60_000 }, async () => {
    for (const limit of ["0", "501", "-1", "abc", "1.5"]) {
      const res = await feed(`?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(((await res.json()) as Json).error).toBe("invalid_query");
    }
    const unknown = await feed("?cursor=1");
    expect(unknown.status).toBe(400);

    const start = await headCursor();
    const db = getDb(env.DB);
    const pull = { ...DEFAULT_SETTINGS, siteDelivery: "pull" as const };
    const insert = (n: number, pad = 0) =>
      Array.from({ length: n }, (_, i) => {
        const rid = crypto.randomUUID();
        const data = sampleData("user.created", rid) as { user: Json };
        // A long displayName makes a big event that still matches its schema (it may be pushed later).
        const user = pad ? { ...data.user, displayName: "x".repeat(pad + i) } : data.user;
        return outboxInsert(
          db,
          { id: newEventId(), type: "user.created", resourceType: "User", resourceId: rid, resourceVersion: 1, data: { ...data, user } },
          pull,
          new Date(),
        );
      });
    for (let i = 0; i < 3; i++) await db.batch(insert(50) as unknown as Parameters<typeof db.batch>[0]);
    const first = await page(`?after=${encodeURIComponent(start)}`);
    expect(first.data).toHaveLength(100);
    expect(first.hasMore).toBe(true);
    expect((await page(since(start, 500))).data).toHaveLength(150);

    // Ten events of 300 KB: a page of 500 stops before 2 MB, and the next one goes on from there.
    const big = await headCursor();
    await db.batch(insert(10, 300_000) as unknown as Parameters<typeof db.batch>[0]);
    const p1 = await page(since(big, 500));
    expect(p1.data.length).toBeGreaterThan(0);
    expect(p1.data.length).toBeLessThan(10);
    expect(p1.text.length).toBeLessThan(FEED_PAGE_BYTES + 400_000);
    expect(p1.hasMore).toBe(true);
    const rest = await readAll(p1.nextCursor);
    expect(p1.data.length + rest.entries.length).toBe(10);
  });

  it("a cursor the feed did not give is 400 and says what to send", async () => {
    const cursor = await headCursor();
    const [body = "", mac = ""] = cursor.split(".");
    const flipped = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    const forged = [`${flipped(body, 2)}.${mac}`, `${body}.${flipped(mac, 3)}`, `${body}.`, "garbage", `${cursor}.x`, btoa("f1:1:")];
    for (const bad of forged) {
      const res = await feed(`?after=${encodeURIComponent(bad)}`);
      const text = await res.clone().text();
      expect(res.status, `${bad}: ${text}`).toBe(400);
      expect(JSON.parse(text)).toMatchObject({ error: "invalid_cursor" });
      expect(JSON.parse(text).detail).toContain("nextCursor");
    }
  });
});

describe("pull mode", () => {
  it("POSTs nothing and a read delivers: events wait as awaiting_pull, a cursor past them makes them delivered", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ siteDelivery: "pull", deprovisionGuard: { maxPerHour: 1_000 } });
    const start = await headCursor();
    const before = pushed.length;
    const u = await createUser(oktaUser(uniqueName("Pull")));
    const id = u.id as string;
    await expectStatus(await scim("PATCH", `/Users/${id}`, title("Pulled")), 200);
    await expectStatus(await scim("PATCH", `/Users/${id}`, deactivate), 200);
    // A redelivery goes through the queue and the consumer, which still POSTs nothing.
    const created = (await rowsOf(id))[0]?.id ?? "";
    await expectStatus(await admin("POST", `/events/${created}/redeliver`), 202);
    await settled();
    expect(pushed.length - before).toBe(0);
    expect((await rowsOf(id)).map((r) => r.state)).toEqual(["awaiting_pull", "awaiting_pull", "awaiting_pull"]);

    const stats = async () => (await expectStatus(await admin("GET", "/stats"), 200)).siteDelivery as Json;
    const first = await page(since(start));
    expect(first.data.map((e) => e.type)).toEqual(["user.created", "user.updated", "user.deactivated"]);
    // Read, not yet acknowledged: the site's next request says it has them.
    expect((await rowsOf(id)).every((r) => r.state === "awaiting_pull")).toBe(true);
    expect(((await stats()).feed as Json).lag).toMatchObject({ events: 3 });
    await page(since(first.nextCursor));
    const rows = await rowsOf(id);
    expect(rows.map((r) => r.state)).toEqual(["delivered", "delivered", "delivered"]);
    const delivered = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE resource_id = ? AND delivered_at IS NOT NULL")
      .bind(id)
      .first<{ n: number }>();
    expect(delivered?.n).toBe(3);
    const s = await stats();
    expect(s).toMatchObject({ mode: "pull", tokenSet: true });
    expect((s.feed as Json).lag).toEqual({ events: 0, seconds: 0 });
    expect(((s.feed as Json).lastRead as Json).eventId).toBe(rows[2]?.id);
    expect(((s.feed as Json).lastRead as Json).position).toBe(rows[2]?.position);

    // Redelivering an event the site has read leaves it delivered: its cursor is past it.
    await expectStatus(await admin("POST", `/events/${created}/redeliver`), 202);
    await settled();
    expect((await rowsOf(id))[0]?.state).toBe("delivered");
    expect(pushed.length - before).toBe(0);
  });

  it("with MAIN_SITE_URL unset an event is never undeliverable: it waits for the site", async () => {
    await setSettings({ siteDelivery: "pull" });
    const u = await createUser(oktaUser(uniqueName("NoUrl")));
    const [row] = await rowsOf(u.id as string);
    await env.DB.prepare("UPDATE events SET state = 'pending' WHERE id = ?").bind(row?.id).run();
    const batch = createMessageBatch("scim-events", [{ id: "m1", timestamp: new Date(), attempts: 1, body: { v: 1, eventId: row?.id } }]);
    const ctx = createExecutionContext();
    await worker.queue?.(batch, { ...env, MAIN_SITE_URL: "" }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect((await rowsOf(u.id as string))[0]?.state).toBe("awaiting_pull");
    // In push mode the same message would have made it undeliverable: the mode decides.
    await setSettings({ siteDelivery: "push" });
    await env.DB.prepare("UPDATE events SET state = 'pending' WHERE id = ?").bind(row?.id).run();
    const again = createMessageBatch("scim-events", [{ id: "m2", timestamp: new Date(), attempts: 1, body: { v: 1, eventId: row?.id } }]);
    const ctx2 = createExecutionContext();
    await worker.queue?.(again, { ...env, MAIN_SITE_URL: "" }, ctx2);
    await getQueueResult(again, ctx2);
    expect((await rowsOf(u.id as string))[0]?.state).toBe("undeliverable");
    await env.DB.prepare("UPDATE events SET state = 'delivered' WHERE id = ?").bind(row?.id).run();
  });

  it("held events are not in the feed; released, they come after the site's cursor, never behind it", { timeout: 60_000 }, async () => {
    await setSettings({ siteDelivery: "pull", deprovisionGuard: { maxPerHour: 1 } });
    const ids = await Promise.all(Array.from({ length: 4 }, async () => (await createUser(oktaUser(uniqueName("Held")))).id as string));
    for (const id of ids) await expectStatus(await scim("PATCH", `/Users/${id}`, deactivate), 200);
    for (const id of ids) await expectStatus(await scim("PATCH", `/Users/${id}`, title("While held")), 200);
    const heldRows = (await Promise.all(ids.map(rowsOf))).flat().filter((r) => r.state === "held");
    expect(heldRows.length).toBeGreaterThanOrEqual(6);
    expect(heldRows.every((r) => r.position === null)).toBe(true);
    const held = new Set(heldRows.map((r) => r.id));

    // The site reads everything there is, then more happens and it reads that too.
    const read1 = await readAll();
    expect(read1.entries.filter((e) => held.has(e.id))).toEqual([]);
    const later = await createUser(oktaUser(uniqueName("Later")));
    const read2 = await readAll(read1.cursor);
    expect(read2.entries.map((e) => e.data.id)).toEqual([later.id]);
    const cursorPosition = (await rowsOf(later.id as string))[0]?.position ?? 0;

    const released = await expectStatus(await admin("POST", "/events/release-held"), 200);
    expect(released.released).toBe(heldRows.length);
    const read3 = await readAll(read2.cursor);
    expect(new Set(read3.entries.map((e) => e.id))).toEqual(held);
    for (const r of (await Promise.all(ids.map(rowsOf))).flat().filter((r) => held.has(r.id))) {
      expect(r.position).toBeGreaterThan(cursorPosition);
      // The payload is the one written when the change was made, not one made at release.
      const entry = read3.entries.find((e) => e.id === r.id);
      const { id: _, ...rest } = entry ?? { id: "" };
      expect(rest).toEqual(JSON.parse(r.payload));
    }
    // Each user's own events in version order, the deactivation first: nothing says inactive before it.
    for (const id of ids) {
      const versions = read3.entries.filter((e) => e.data.id === id).map((e) => e.data.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    await setSettings({ deprovisionGuard: { maxPerHour: 1_000 } });
    await settled();
    await page(since(read3.cursor));
  });

  it("back to push, what the site did not read is POSTed, in feed order", { timeout: 60_000 }, async () => {
    await setSettings({ siteDelivery: "pull" });
    const u = await createUser(oktaUser(uniqueName("Switch")));
    await expectStatus(await scim("PATCH", `/Users/${u.id}`, title("Unread")), 200);
    const unread = await rowsOf(u.id as string);
    expect(unread.map((r) => r.state)).toEqual(["awaiting_pull", "awaiting_pull"]);
    const before = pushed.length;
    await setSettings({ siteDelivery: "push" });
    await cron();
    await settled();
    expect((await rowsOf(u.id as string)).map((r) => r.state)).toEqual(["delivered", "delivered"]);
    const sent = pushed.slice(before).map((c) => c.headers["webhook-id"]);
    expect(sent.filter((id) => unread.some((r) => r.id === id))).toEqual(unread.map((r) => r.id));
  });

  it("pull needs SITE_API_TOKEN (409 that says how to set it); siteDelivery is push or pull", async () => {
    await setSettings({ siteDelivery: "push" });
    const handler = worker.fetch;
    if (!handler) throw new Error("no fetch handler");
    const put = (body: unknown, bindings: Partial<typeof env> = {}) =>
      handler(
        new Request(`${ORIGIN}/admin/api/settings`, {
          method: "PUT",
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        }) as Parameters<typeof handler>[0],
        { ...env, ...bindings },
        createExecutionContext(),
      );
    const refused = await put({ siteDelivery: "pull" }, { SITE_API_TOKEN: "" });
    const body = await expectStatus(refused, 409);
    expect(body).toMatchObject({ error: "site_api_token_unset" });
    expect(body.detail).toContain("wrangler secret put SITE_API_TOKEN");
    await expectStatus(await put({ siteDelivery: "poll" }), 400);
    expect((await expectStatus(await admin("GET", "/settings"), 200)).siteDelivery).toBe("push");
  });
});

describe("retention: a cursor older than it is 410", () => {
  it("deleting read events raises the floor: a cursor below it is 410 with what to do; the start moves to it", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ siteDelivery: "pull", eventRetentionDays: 1 });
    const old = await headCursor();
    const users = [];
    for (let i = 0; i < 3; i++) users.push(await createUser(oktaUser(uniqueName("Old"))));
    const read = await readAll(old, 1);
    const middle = (await page(since(old, 1))).nextCursor;
    await page(since(read.cursor));
    // Read (delivered), and in the feed for two days: past retention.
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const first = users[0]?.id as string;
    await env.DB.prepare("UPDATE events SET created_at = ?1, published_at = ?1 WHERE resource_id = ?2").bind(twoDaysAgo, first).run();
    // Made long ago but published (released) today: it stays its full term.
    const second = users[1]?.id as string;
    await env.DB.prepare("UPDATE events SET created_at = ?1 WHERE resource_id = ?2").bind(twoDaysAgo, second).run();
    await cron();
    expect(await rowsOf(first)).toEqual([]);
    expect(await rowsOf(second)).toHaveLength(1);

    for (const cursor of [old]) {
      const res = await feed(since(cursor));
      const body = await expectStatus(res, 410);
      expect(body).toMatchObject({ error: "cursor_expired" });
      expect(body.detail).toContain("resync");
      expect(body.detail).toContain("leave after out");
    }
    // The first user's event was at the middle cursor's position: nothing after it is gone.
    expect((await feed(since(middle))).status).toBe(200);
    const fromStart = await page("?limit=1");
    expect(fromStart.data[0]?.data.id).toBe(second);
  });
});

describe("a database restored under the site", () => {
  it("a cursor past the feed's head, or naming another event at its position, is 410", { timeout: 60_000 }, async () => {
    await setSettings({ siteDelivery: "push" });
    await createUser(oktaUser(uniqueName("Before")));
    await createUser(oktaUser(uniqueName("Before")));
    const cursor = await headCursor();
    await settled();
    // A restore to two events ago: the events and the feed's row as they were then.
    const head = (await env.DB.prepare("SELECT head, floor FROM site_feed").first<{ head: number; floor: number }>()) ?? {
      head: 0,
      floor: 0,
    };
    await env.DB.batch([
      env.DB.prepare("DELETE FROM events WHERE feed_position > ?").bind(head.head - 2),
      env.DB.prepare("UPDATE site_feed SET head = ?, floor = ?").bind(head.head - 2, head.floor),
    ]);
    const ahead = await expectStatus(await feed(since(cursor)), 410);
    expect(ahead).toMatchObject({ error: "cursor_unknown" });
    await createUser(oktaUser(uniqueName("After")));
    await createUser(oktaUser(uniqueName("After")));
    const replaced = await expectStatus(await feed(since(cursor)), 410);
    expect(replaced).toMatchObject({ error: "cursor_unknown" });
    expect(replaced.detail).toContain("restored");
    await settled();
  });
});
