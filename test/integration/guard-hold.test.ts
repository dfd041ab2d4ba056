import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { HELD_BY_GUARD } from "../../src/log/entry";
import { admin, createUser, expectStatus, type Json, oktaUser, ops, scim, setSettings, uniqueName } from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * The guard holds the user, not one event (src/events/hold.ts): while a deactivation or deletion
 * is held, nothing tells the site the user is inactive or deleted; release delivers everything in
 * version order, each once; discard drops the user's held chain. Through the Worker, the real D1
 * and the real queue; the site is the one test double. Its own file: the hour's count is its own.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const wh = new Webhook(env.MAIN_SITE_SIGNING_SECRET ?? "");
const calls = acceptingSite(SITE);

interface Delivered {
  id: string;
  type: string;
  resource: string;
  version: number;
  active: boolean | undefined;
}

function delivered(): Delivered[] {
  return calls.map((c) => {
    const body = wh.verify(c.body, c.headers) as { type: string; data: { id: string; version: number; user?: { active?: boolean } } };
    return {
      id: c.headers["webhook-id"] ?? "",
      type: body.type,
      resource: body.data.id,
      version: body.data.version,
      active: body.data.user?.active,
    };
  });
}

/** Until no event is on its way (pending, queued, retrying): what is left is delivered or held. */
async function settled(): Promise<void> {
  await vi.waitUntil(
    async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE state IN ('pending', 'queued', 'retrying')").first<{ n: number }>())
        ?.n === 0,
    { timeout: 20_000, interval: 100 },
  );
}

async function eventsOf(id: string): Promise<{ id: string; type: string; state: string; hold: string | null; version: number }[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, type, state, hold, resource_version AS version FROM events WHERE resource_id = ? ORDER BY resource_version",
  )
    .bind(id)
    .all<{ id: string; type: string; state: string; hold: string | null; version: number }>();
  return results;
}

const oktaDeactivate = ops({ op: "replace", value: { active: false } });
// Entra without aadOptscim062020: capitalised op, string boolean, and a name change in the same PATCH.
const entraDeactivateAndRename = ops(
  { op: "Replace", path: "active", value: "False" },
  { op: "Replace", path: "name.givenName", value: "Renamed" },
);
const titleChange = (title: string) => ops({ op: "replace", path: "title", value: title });

describe("the guard holds the user: nothing says or implies inactive while held", () => {
  it("12 users, maxPerHour 1: titles and combined Entra PATCHes deliver nothing inactive for a held user; release delivers all in order, once each", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ deprovisionGuard: { maxPerHour: 1 } });
    const ids = await Promise.all(Array.from({ length: 12 }, async () => (await createUser(oktaUser(uniqueName("Held")))).id as string));
    for (const [i, id] of ids.entries()) {
      await expectStatus(await scim("PATCH", `/Users/${id}`, i % 2 ? entraDeactivateAndRename : oktaDeactivate), 200);
    }
    for (const id of ids) await expectStatus(await scim("PATCH", `/Users/${id}`, titleChange("After")), 200);
    await settled();

    const first = ids[0] ?? "";
    const held = ids.slice(1);
    // The first deactivation was under the threshold; every later one is held with its user.
    expect((await eventsOf(first)).every((e) => e.state === "delivered")).toBe(true);
    for (const id of held) {
      const evs = await eventsOf(id);
      const after = evs.filter((e) => e.type !== "user.created");
      expect(after[0]).toMatchObject({ type: "user.deactivated", state: "held", hold: "guard" });
      expect(after.slice(1).every((e) => e.state === "held" && e.hold === "user")).toBe(true);
      // The log row of the held change says so.
      const log = await env.DB.prepare(
        "SELECT decisions FROM provisioning_log WHERE resource_id = ? AND method = 'PATCH' ORDER BY seq LIMIT 1",
      )
        .bind(id)
        .first<{ decisions: string }>();
      expect(JSON.parse(log?.decisions ?? "[]")).toContain(HELD_BY_GUARD);
    }
    const heldSet = new Set(held);
    const leaked = delivered().filter((d) => heldSet.has(d.resource) && d.active !== true);
    expect(leaked).toEqual([]);
    const before = calls.length;

    // 11 held deactivations, 6 renames riding with them (Entra), 11 titles: 28 held events.
    const heldCount = (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE state = 'held'").first<{ n: number }>())?.n;
    expect(heldCount).toBe(28);
    const released = await expectStatus(await admin("POST", "/events/release-held"), 200);
    expect(released.released).toBe(28);
    await settled();
    const after = delivered().slice(before);
    for (const id of held) {
      const mine = after.filter((d) => d.resource === id);
      const want = (await eventsOf(id)).filter((e) => e.type !== "user.created");
      // Each exactly once, with its own webhook-id, in version order.
      expect(mine.map((d) => d.id)).toEqual(want.map((e) => e.id));
      expect(mine.map((d) => d.version)).toEqual([...mine.map((d) => d.version)].sort((a, b) => a - b));
      expect(mine[0]?.type).toBe("user.deactivated");
      expect(mine.every((d) => d.active === false)).toBe(true);
    }
    expect(new Set(after.map((d) => d.id)).size).toBe(after.length);
  });

  it("300 users created between two waves of deactivations do not lift the guard: the second wave is held", {
    timeout: 60_000,
  }, async () => {
    await env.DB.prepare("DELETE FROM events").run();
    await setSettings({ deprovisionGuard: { maxPerHour: 5 } });
    const old = await Promise.all(Array.from({ length: 39 }, async () => (await createUser(oktaUser(uniqueName("Old")))).id as string));
    // These 39 were there before the hour began.
    await env.DB.prepare(`UPDATE users SET created_at = ? WHERE id IN (SELECT value FROM json_each(?))`)
      .bind(new Date(Date.now() - 2 * 3_600_000).toISOString(), JSON.stringify(old))
      .run();
    const deactivationState = async (id: string) => {
      await expectStatus(await scim("PATCH", `/Users/${id}`, oktaDeactivate), 200);
      return (await eventsOf(id)).find((e) => e.type === "user.deactivated")?.state;
    };
    const wave1: (string | undefined)[] = [];
    for (const id of old.slice(0, 10)) wave1.push(await deactivationState(id));
    expect(wave1.map((s) => (s === "held" ? "held" : "sent"))).toEqual([...Array(5).fill("sent"), ...Array(5).fill("held")]);

    const bulk = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
      Operations: Array.from({ length: 300 }, (_, i) => ({
        method: "POST",
        path: "/Users",
        bulkId: `b${i}`,
        data: oktaUser(uniqueName("Dummy")),
      })),
    };
    const res = await expectStatus(await scim("POST", "/Bulk", bulk), 200);
    expect((res.Operations as Json[]).every((op) => op.status === "201")).toBe(true);

    const wave2: (string | undefined)[] = [];
    for (const id of old.slice(10, 20)) wave2.push(await deactivationState(id));
    expect(wave2).toEqual(Array(10).fill("held"));
    await expectStatus(await admin("POST", "/events/discard-held"), 200);
  });
});

describe("what Discard does", () => {
  it("drops the user's held chain: the site never hears of it and keeps the user as it was; the directory keeps what the IdP sent", {
    timeout: 60_000,
  }, async () => {
    await env.DB.prepare("DELETE FROM events").run();
    await setSettings({ deprovisionGuard: { maxPerHour: 1 } });
    const [a, b] = [await createUser(oktaUser(uniqueName("A"))), await createUser(oktaUser(uniqueName("B")))];
    const [aId, bId] = [a.id as string, b.id as string];
    await expectStatus(await scim("PATCH", `/Users/${aId}`, oktaDeactivate), 200);
    await expectStatus(await scim("PATCH", `/Users/${bId}`, oktaDeactivate), 200);
    // The IdP undoes its mistake: B is reactivated. That waits behind B's held deactivation.
    await expectStatus(await scim("PATCH", `/Users/${bId}`, ops({ op: "replace", value: { active: true } })), 200);
    await settled();
    expect((await eventsOf(bId)).filter((e) => e.state === "held").map((e) => e.type)).toEqual(["user.deactivated", "user.reactivated"]);
    const before = calls.length;
    const discarded = await expectStatus(await admin("POST", "/events/discard-held", { ids: [(await eventsOf(bId))[1]?.id] }), 200);
    expect(discarded.discarded).toBe(2);
    await settled();
    expect(delivered().slice(before)).toEqual([]);
    expect((await eventsOf(bId)).filter((e) => e.type !== "user.created").map((e) => e.state)).toEqual(["discarded", "discarded"]);
    // The directory has B as the IdP left it (active again); the site never saw B go.
    expect((await expectStatus(await scim("GET", `/Users/${bId}`), 200)).active).toBe(true);
    expect(
      delivered()
        .filter((d) => d.resource === bId)
        .map((d) => d.type),
    ).toEqual(["user.created"]);
    // A later change of B delivers its full current state, with a version above the discarded ones.
    await expectStatus(await scim("PATCH", `/Users/${bId}`, titleChange("Back")), 200);
    await settled();
    const last = delivered()
      .filter((d) => d.resource === bId)
      .at(-1);
    expect(last).toMatchObject({ type: "user.updated", active: true });
    expect(last?.version).toBeGreaterThan(Math.max(...(await eventsOf(bId)).filter((e) => e.state === "discarded").map((e) => e.version)));
  });

  it("a held deletion holds its group removals too; the group's later events wait behind them; discard drops the removal and lets them go", {
    timeout: 60_000,
  }, async () => {
    await env.DB.prepare("DELETE FROM events").run();
    await setSettings({ deprovisionGuard: { maxPerHour: 1 } });
    const [u1, u2, u3] = [
      await createUser(oktaUser(uniqueName("G1"))),
      await createUser(oktaUser(uniqueName("G2"))),
      await createUser(oktaUser(uniqueName("G3"))),
    ];
    const group = await expectStatus(
      await scim("POST", "/Groups", { displayName: "Held group", members: [{ value: u1.id }, { value: u2.id }] }),
      201,
    );
    const gid = group.id as string;
    await expectStatus(await scim("DELETE", `/Users/${u1.id as string}`), 204);
    await expectStatus(await scim("DELETE", `/Users/${u2.id as string}`), 204);
    await expectStatus(await scim("PATCH", `/Groups/${gid}`, ops({ op: "add", path: "members", value: [{ value: u3.id }] })), 204);
    await settled();
    const groupEvents = await eventsOf(gid);
    expect(groupEvents.map((e) => [e.type, e.state, e.hold])).toEqual([
      ["group.created", "delivered", null],
      ["group.members_removed", "delivered", null],
      ["group.members_removed", "held", "cascade"],
      ["group.members_added", "held", "wait"],
    ]);
    const before = calls.length;
    const body = await expectStatus(await admin("POST", "/events/discard-held"), 200);
    expect(body).toMatchObject({ discarded: 2, unblocked: 1 });
    await settled();
    expect(
      delivered()
        .slice(before)
        .map((d) => d.type),
    ).toEqual(["group.members_added"]);
  });
});
