import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { admin, createUser, expectStatus, type Json, oktaUser, ops, scim, setSettings, uniqueName } from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * The guard, by person (GET /admin/api/events/held, POST .../held/plan and .../held/apply): a mass
 * deprovisioning partly undone by the IdP, grouped by user with why each was held (as numbers)
 * and what the directory says now; the safe bulk actions say exactly what they will do before
 * they do it, and do exactly that. Its own file: the guard's hour is its own.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const wh = new Webhook(env.MAIN_SITE_SIGNING_SECRET ?? "");
const calls = acceptingSite(SITE);

interface Person {
  userId: string;
  userName: string | null;
  since: string;
  rootId: string | null;
  why: { kind: string; saw?: { countBefore: number; maxPerHour: number; activeAtHourStart: number; threshold: number } | null };
  events: { id: string; type: string; version: number; hold: string }[];
  directory: "active" | "inactive" | "deleted";
  changedSince: boolean;
  reactivated: boolean;
}
interface Plan {
  action: string;
  people: number;
  names: string[];
  deactivations: number;
  deletions: number;
  followers: number;
  groupChanges: number;
  unblocked: number;
  nameWaiters: number;
  stillWaiting: number;
  events: number;
  summary: string;
  token: string;
}
interface Held {
  totals: Record<string, number>;
  people: Person[];
  actions: { discardReactivated: Plan; releaseRest: Plan };
}

const held = async () => (await expectStatus(await admin("GET", "/events/held"), 200)) as unknown as Held;
const delivered = () =>
  calls.map((c) => {
    const body = wh.verify(c.body, c.headers) as { type: string; data: { id: string } };
    return { type: body.type, resource: body.data.id };
  });
async function settled(): Promise<void> {
  await vi.waitUntil(
    async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE state IN ('pending', 'queued', 'retrying')").first<{ n: number }>())
        ?.n === 0,
    { timeout: 20_000, interval: 100 },
  );
}
const stateOf = async (eventId: string) =>
  (await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(eventId).first<{ state: string }>())?.state;

const deactivate = ops({ op: "replace", value: { active: false } });
const reactivate = ops({ op: "replace", value: { active: true } });

let users: Json[] = [];
let heldIds: string[] = [];

beforeAll(async () => {
  await setSettings({ deprovisionGuard: { maxPerHour: 2 } });
  users = [];
  for (let i = 0; i < 8; i++) users.push(await createUser(oktaUser(uniqueName(`Mass${i}`), { title: "Eng" })));
  for (const u of users) await expectStatus(await scim("PATCH", `/Users/${u.id}`, deactivate), 200);
  heldIds = users.slice(2).map((u) => u.id as string);
  // The IdP undoes its mistake for three of the held people; one other is renamed; one is deleted.
  for (const id of heldIds.slice(0, 3)) await expectStatus(await scim("PATCH", `/Users/${id}`, reactivate), 200);
  await expectStatus(await scim("PATCH", `/Users/${heldIds[3]}`, ops({ op: "replace", path: "title", value: "Staff" })), 200);
  expect((await scim("DELETE", `/Users/${heldIds[4]}`)).status).toBe(204);
  await settled();
}, 120_000);

describe("held changes, by person", () => {
  it("groups the held events by user, oldest first, with why (the hour's count against the threshold) and the directory now", async () => {
    const h = await held();
    expect(h.totals).toMatchObject({ people: 6, reactivated: 3, active: 3, inactive: 2, deleted: 1, changedSince: 2 });
    expect(h.people.map((p) => p.userId)).toEqual(heldIds);
    h.people.forEach((p, i) => {
      expect(p.why).toEqual({ kind: "guard", saw: { countBefore: 2 + i, maxPerHour: 2, activeAtHourStart: 0, threshold: 2 } });
      expect(p.events[0]).toMatchObject({ id: p.rootId, type: "user.deactivated", hold: "guard" });
    });
    const [r0, , , titled, gone, still] = h.people;
    expect(r0).toMatchObject({ directory: "active", reactivated: true, changedSince: false });
    expect(r0?.events.map((e) => e.type)).toEqual(["user.deactivated", "user.reactivated"]);
    expect(titled).toMatchObject({ directory: "inactive", reactivated: false, changedSince: true });
    expect(gone).toMatchObject({ directory: "deleted", reactivated: false, changedSince: true });
    expect(still).toMatchObject({ directory: "inactive", reactivated: false, changedSince: false });
    expect(r0?.userName).toBe(users[2]?.userName);
  });

  it("each bulk action says exactly what it will do, in people and changes", async () => {
    const { actions } = await held();
    expect(actions.discardReactivated).toMatchObject({ action: "discard", people: 3, deactivations: 3, followers: 3, events: 6 });
    expect(actions.discardReactivated.summary).toBe(
      "Discard the held changes of 3 people: 3 deactivations, and 3 later changes of the same people, never delivered. The site keeps them as it knew them before.",
    );
    expect(actions.releaseRest).toMatchObject({ action: "release", people: 3, deactivations: 3, followers: 2, events: 5 });
    expect(actions.releaseRest.summary).toBe(
      "Release the held changes of 3 people: the site receives 3 deactivations, and 2 later changes of the same people, in order.",
    );
  });

  it("a plan shown before the held changes moved is refused (409) with the new plan, and nothing is done", async () => {
    const { actions } = await held();
    const stale = { action: "discard", scope: "reactivated", token: `${actions.discardReactivated.token.slice(0, -2)}00` };
    const body = await expectStatus(await admin("POST", "/events/held/apply", stale), 409);
    expect(body.error).toBe("plan_changed");
    expect((body.plan as Plan).token).toBe(actions.discardReactivated.token);
    expect((await held()).totals.people).toBe(6);
  });

  it("discard for the people the IdP has reactivated: the site never hears they were deactivated", async () => {
    const before = calls.length;
    const { actions, people } = await held();
    const body = await expectStatus(
      await admin("POST", "/events/held/apply", { action: "discard", scope: "reactivated", token: actions.discardReactivated.token }),
      200,
    );
    expect(body).toMatchObject({ done: true, people: 3, events: 6 });
    await settled();
    const reactivated = new Set(heldIds.slice(0, 3));
    expect(
      delivered()
        .slice(before)
        .filter((d) => reactivated.has(d.resource)),
    ).toEqual([]);
    for (const p of people.slice(0, 3)) for (const e of p.events) expect(await stateOf(e.id)).toBe("discarded");
    const after = await held();
    expect(after.totals).toMatchObject({ people: 3, reactivated: 0 });
    // The log says what was done, in the dialog's words.
    const row = await env.DB.prepare(
      "SELECT decisions, actor FROM provisioning_log WHERE path = '/admin/api/events/held/apply' ORDER BY seq DESC LIMIT 1",
    ).first<{
      decisions: string;
      actor: string;
    }>();
    expect(row?.actor).toBe("admin token");
    expect(JSON.parse(row?.decisions ?? "[]")[0]).toBe(
      `held changes discarded (never delivered) for the people the IdP has reactivated: ${actions.discardReactivated.summary}`,
    );
  });

  it("one row's Discard plan names the whole chain of that person: the numbers are what it drops", async () => {
    const { people } = await held();
    const titled = people.find((p) => p.userId === heldIds[3]);
    const follower = titled?.events.find((e) => e.hold === "user");
    const plan = (await expectStatus(
      await admin("POST", "/events/held/plan", { action: "discard", scope: "ids", ids: [follower?.id] }),
      200,
    )) as unknown as Plan;
    expect(plan).toMatchObject({ people: 1, deactivations: 1, followers: 1, events: 2, names: [titled?.userName] });
    expect(plan.summary).toBe(
      "Discard the held changes of 1 person: 1 deactivation, and 1 later change of the same people, never delivered. The site keeps this person as it knew them before.",
    );
  });

  it("release the rest: in order, each once; the deleted user's deletion and the title change follow its deactivation", async () => {
    const before = calls.length;
    const { actions } = await held();
    await expectStatus(
      await admin("POST", "/events/held/apply", { action: "release", scope: "rest", token: actions.releaseRest.token }),
      200,
    );
    await settled();
    const sent = delivered().slice(before);
    for (const id of heldIds.slice(3)) {
      const mine = sent.filter((d) => d.resource === id).map((d) => d.type);
      expect(mine[0], id).toBe("user.deactivated");
    }
    expect(sent.filter((d) => d.resource === heldIds[3]).map((d) => d.type)).toEqual(["user.deactivated", "user.updated"]);
    expect(sent.filter((d) => d.resource === heldIds[4]).map((d) => d.type)).toEqual(["user.deactivated", "user.deleted"]);
    const after = await held();
    expect(after.totals.people).toBe(0);
    expect(after.actions.releaseRest.summary).toBe("Nothing to do: no held change matches.");
    // Nothing left to act on: applying is refused, not a silent no-op.
    const nothing = await expectStatus(
      await admin("POST", "/events/held/apply", { action: "release", scope: "rest", token: after.actions.releaseRest.token }),
      409,
    );
    expect(nothing.error).toBe("nothing_held");
  });

  it("refuses a scope that needs ids without them, and ids with a scope that takes none", async () => {
    for (const body of [
      { action: "release", scope: "users" },
      { action: "release", scope: "all", ids: ["x"] },
      { action: "keep", scope: "all" },
    ]) {
      const res = await expectStatus(await admin("POST", "/events/held/plan", body), 400);
      expect(res.error).toBe("invalid_body");
    }
  });
});
