import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createReplica, type Delivery, verify } from "../../site-sdk/src/index.js";
import { directory } from "../directory";
import { admin, createUser, expectStatus, type Json, oktaUser, ops, scim, setSettings, settleJobs, uniqueName } from "../helpers";
import { checkDelivery } from "../site-double";

/**
 * The ordering rules hold for a real run: provisioning through the Worker (SCIM writes, a mapped
 * group's role changes, deletions cascading into groups, a resync midway), events through the
 * real outbox, queue and consumer, captured by the site as signed deliveries. The site SDK's
 * replica, fed that stream in any order with duplicates (retries, redeliveries), ends equal to the
 * directory. Its own file, so the directory holds only this run.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";
/** Every verified delivery of the run, in the order the site received them. */
const stream: Delivery[] = [];

const realFetch = globalThis.fetch;
beforeAll(() => {
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    const body = await req.text();
    checkDelivery(body);
    stream.push(await verify(body, req.headers, SECRET));
    return new Response(null, { status: 204 });
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
});

const patch = async (path: string, ...operations: unknown[]) => {
  const res = await scim("PATCH", path, ops(...operations));
  expect([200, 204], await res.clone().text()).toContain(res.status);
};

async function createGroup(displayName: string, members: string[]): Promise<string> {
  const body = await expectStatus(await scim("POST", "/Groups", { displayName, members: members.map((value) => ({ value })) }), 201);
  return body.id as string;
}

/** Waits until every event of the run has reached the site (none left on its way). */
async function allDelivered(): Promise<number> {
  await vi.waitUntil(
    async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE state <> 'delivered'").first<{ n: number }>();
      return row?.n === 0;
    },
    { timeout: 90_000, interval: 200 },
  );
  return Number((await env.DB.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>())?.n);
}

async function resync(): Promise<void> {
  const started = await expectStatus(await admin("POST", "/resync"), 202);
  await settleJobs();
  await vi.waitUntil(
    async () => {
      const { last } = await expectStatus(await admin("GET", "/resync"), 200);
      return (last as Json | null)?.id === started.id && (last as Json).state === "done";
    },
    { timeout: 60_000, interval: 200 },
  );
}

/** A deterministic shuffle (mulberry32): the same seed, the same order, so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("a real run's events, shuffled and duplicated, rebuild the directory", () => {
  it("users, roles, groups and memberships end equal to the directory in every order", { timeout: 240_000 }, async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++)
      ids.push((await createUser(oktaUser(uniqueName(`Run${i}`), i === 0 ? { userType: "Moderator" } : {}))).id as string);
    const [ann, bob, cy, dee, eve, fay, gus, hal] = ids as [string, string, string, string, string, string, string, string];

    // Changes of users: attributes, status both ways, roles by userType.
    await patch(`/Users/${ann}`, { op: "replace", path: "title", value: "Engineer" });
    await patch(`/Users/${bob}`, { op: "replace", value: { active: false } });
    await patch(`/Users/${cy}`, { op: "replace", value: { active: false } });
    await patch(`/Users/${cy}`, { op: "replace", value: { active: true, title: "Back" } });
    await patch(`/Users/${dee}`, { op: "replace", path: "userType", value: "Admin" });

    // Groups: created with members, members added and removed, renamed; one mapped to a role.
    const eng = await createGroup("Engineering", [ann, bob, cy]);
    const mods = await createGroup("Site Moderators", [eve]);
    const temp = await createGroup("Temporary", [fay, gus]);
    await patch(`/Groups/${eng}`, { op: "add", path: "members", value: [{ value: dee }, { value: eve }] });
    await patch(`/Groups/${eng}`, { op: "remove", path: `members[value eq "${bob}"]` });
    await patch(`/Groups/${eng}`, { op: "replace", path: "displayName", value: "Engineering (all)" });
    await setSettings({ moderatorGroup: mods });
    await settleJobs();
    await patch(`/Groups/${mods}`, { op: "add", path: "members", value: [{ value: fay }] });

    // A resync midway: its synced events are older than what follows for some resources.
    await allDelivered();
    await resync();

    // After it: a deletion that leaves groups, a group deleted, more membership churn.
    expect((await scim("DELETE", `/Users/${cy}`)).status).toBe(204);
    expect((await scim("DELETE", `/Groups/${temp}`)).status).toBe(204);
    await patch(`/Groups/${eng}`, { op: "add", path: "members", value: [{ value: bob }, { value: hal }] });
    await patch(`/Groups/${eng}`, { op: "remove", path: `members[value eq "${ann}"]` });
    await patch(`/Groups/${mods}`, { op: "remove", path: `members[value eq "${eve}"]` });
    await patch(`/Users/${gus}`, { op: "replace", value: { active: false, title: "Gone" } });
    await settleJobs();
    const total = await allDelivered();

    // Every event reached the site once (the consumer ran as in production); every type was seen.
    expect(new Set(stream.map((d) => d.id)).size).toBe(total);
    const types = new Set(stream.map((d) => d.event?.type));
    for (const type of [
      "user.created",
      "user.updated",
      "user.deactivated",
      "user.reactivated",
      "user.role_changed",
      "user.deleted",
      "group.created",
      "group.updated",
      "group.deleted",
      "group.members_added",
      "group.members_removed",
      "user.synced",
      "group.synced",
    ]) {
      expect(types, type).toContain(type);
    }

    const want = await directory();
    expect(Object.keys(want.users)).toHaveLength(7);
    expect(want.groups[mods]?.members).toEqual([fay].sort());

    // In the order received, then in 60 other orders with a third of the deliveries repeated.
    const orders = [
      stream,
      ...Array.from({ length: 60 }, (_, seed) =>
        shuffled([...stream, ...shuffled(stream, seed + 1000).slice(0, Math.ceil(stream.length / 3))], seed),
      ),
    ];
    for (const [n, order] of orders.entries()) {
      const replica = createReplica();
      for (const delivery of order) replica.apply(delivery);
      expect(replica.snapshot(), `order ${n}`).toEqual(want);
    }
  });
});
