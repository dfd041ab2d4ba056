import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createReplica, FeedCursorExpiredError, type PulledEvent, pull } from "../../site-sdk/src/index.js";
import { directory } from "../directory";
import {
  admin,
  createUser,
  expectStatus,
  fetchWorker,
  type Json,
  ORIGIN,
  oktaUser,
  ops,
  scim,
  setSettings,
  settleJobs,
  uniqueName,
} from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * A site that pulls, built on the site SDK's pull client and replica, against the Worker's real
 * feed in pull mode: it reads between the IdP's changes (a poller), through a mapped group's role
 * changes, deletions, the guard holding deactivations until an admin releases them, and a resync.
 * It ends equal to the directory, having read each event once, and nothing was POSTed. Its own
 * file, so the directory holds only this run.
 */

const TOKEN = env.SITE_API_TOKEN ?? "";
const pushed = acceptingSite(env.MAIN_SITE_URL ?? "");
const viaWorker = (input: string, init: RequestInit) => fetchWorker(input, init);

const patch = async (path: string, ...operations: unknown[]) => {
  const res = await scim("PATCH", path, ops(...operations));
  expect([200, 204], await res.clone().text()).toContain(res.status);
};

async function createGroup(displayName: string, members: string[]): Promise<string> {
  const body = await expectStatus(await scim("POST", "/Groups", { displayName, members: members.map((value) => ({ value })) }), 201);
  return body.id as string;
}

/** The site: a replica, the cursor it keeps, and every event it has read, in order. */
const replica = createReplica();
const read: PulledEvent[] = [];
let cursor: string | null = null;

/** One poll, as the site's poller makes it: read to the end, apply, keep the cursor. */
async function poll(): Promise<void> {
  for await (const page of pull({ url: ORIGIN, token: TOKEN, after: cursor, limit: 7, fetch: viaWorker, untilCaughtUp: true })) {
    for (const pulled of page.events) replica.apply(pulled);
    read.push(...page.events);
    cursor = page.nextCursor;
  }
}

describe("a site that pulls, on the SDK", () => {
  it("reads a real run as it happens and ends equal to the directory, every event once, nothing POSTed", { timeout: 240_000 }, async () => {
    await setSettings({
      siteDelivery: "pull",
      allowModeratorPromotion: true,
      allowAdminPromotion: true,
      deprovisionGuard: { maxPerHour: 1_000 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++)
      ids.push((await createUser(oktaUser(uniqueName(`Pull${i}`), i === 0 ? { userType: "Moderator" } : {}))).id as string);
    const [ann, bob, cy, dee, eve, fay, gus, hal] = ids as [string, string, string, string, string, string, string, string];
    await poll();

    await patch(`/Users/${ann}`, { op: "replace", path: "title", value: "Engineer" });
    await patch(`/Users/${cy}`, { op: "replace", value: { active: false } });
    await patch(`/Users/${cy}`, { op: "replace", value: { active: true, title: "Back" } });
    await patch(`/Users/${dee}`, { op: "replace", path: "userType", value: "Admin" });
    const eng = await createGroup("Engineering", [ann, bob, cy]);
    const mods = await createGroup("Site Moderators", [eve]);
    const temp = await createGroup("Temporary", [fay, gus]);
    await poll();
    await patch(`/Groups/${eng}`, { op: "add", path: "members", value: [{ value: dee }, { value: eve }] });
    await patch(`/Groups/${eng}`, { op: "remove", path: `members[value eq "${bob}"]` });
    await setSettings({ moderatorGroup: mods });
    await settleJobs();
    await patch(`/Groups/${mods}`, { op: "add", path: "members", value: [{ value: fay }] });
    await poll();

    // The guard holds two deactivations; the site reads on past later changes; then they are released.
    await setSettings({ deprovisionGuard: { maxPerHour: 1 } });
    await patch(`/Users/${bob}`, { op: "replace", value: { active: false } });
    await patch(`/Users/${gus}`, { op: "replace", value: { active: false, title: "Gone" } });
    await patch(`/Users/${hal}`, { op: "replace", value: { active: false } });
    const held = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE state = 'held'").first<{ n: number }>();
    expect(held?.n).toBeGreaterThan(0);
    await patch(`/Groups/${eng}`, { op: "add", path: "members", value: [{ value: hal }] });
    await poll();
    expect(replica.user(hal)?.active).toBe(true);
    await expectStatus(await admin("POST", "/events/release-held"), 200);
    await setSettings({ deprovisionGuard: { maxPerHour: 1_000 } });
    await poll();
    expect(replica.user(hal)?.active).toBe(false);

    // A resync midway, then deletions and more churn.
    const started = await expectStatus(await admin("POST", "/resync"), 202);
    await settleJobs();
    await vi.waitUntil(
      async () => {
        const { last } = await expectStatus(await admin("GET", "/resync"), 200);
        return (last as Json | null)?.id === started.id && (last as Json).state === "done";
      },
      { timeout: 60_000, interval: 200 },
    );
    await poll();
    expect((await scim("DELETE", `/Users/${cy}`)).status).toBe(204);
    expect((await scim("DELETE", `/Groups/${temp}`)).status).toBe(204);
    await patch(`/Groups/${eng}`, { op: "remove", path: `members[value eq "${ann}"]` });
    await patch(`/Groups/${mods}`, { op: "remove", path: `members[value eq "${eve}"]` });
    await settleJobs();
    await poll();
    // One more poll acknowledges the last page: everything is delivered.
    await poll();

    expect(replica.snapshot()).toEqual(await directory());
    const { results } = await env.DB.prepare("SELECT id, state FROM events ORDER BY feed_position").all<{ id: string; state: string }>();
    expect(read.map((e) => e.id)).toEqual(results.map((r) => r.id));
    expect(new Set(results.map((r) => r.state))).toEqual(new Set(["delivered"]));
    const types = new Set(read.map((e) => e.event?.type));
    for (const type of ["user.role_changed", "user.deleted", "group.deleted", "group.members_removed", "user.synced", "group.synced"]) {
      expect(types, type).toContain(type);
    }
    expect(pushed).toEqual([]);
  });

  it("a cursor older than retention ends the SDK's pull with FeedCursorExpiredError", async () => {
    const old = cursor;
    await createUser(oktaUser(uniqueName("Pruned")));
    await poll();
    await poll();
    // Retention deleted an event after `old` (as the cron does: the trigger raises the floor).
    await env.DB.prepare("DELETE FROM events WHERE feed_position = (SELECT head FROM site_feed)").run();
    const pages = pull({ url: ORIGIN, token: TOKEN, after: old, fetch: viaWorker, untilCaughtUp: true });
    await expect(pages.next()).rejects.toBeInstanceOf(FeedCursorExpiredError);
  });
});
