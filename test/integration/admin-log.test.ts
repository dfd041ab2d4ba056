import { beforeAll, describe, expect, it } from "vitest";
import { admin, createUser, expectStatus, oktaUser, SCIM_TOKEN, scim, setSettings, siteRole, uniqueName } from "../helpers";

interface LogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  status: number;
  resourceType: string | null;
  resourceId: string | null;
  quirks: string[];
  decisions: string[];
  detail: string | null;
}

interface LogPage {
  entries: LogEntry[];
  nextCursor: string | null;
}

interface TimelineItem {
  kind: "request" | "event";
  at: string;
  method?: string;
  status?: number;
  type?: string;
  state?: string;
  attempts?: number;
  resourceVersion?: number;
  decisions?: string[];
}

interface Timeline {
  userId: string;
  found: boolean;
  user: { userName: string; role: string; active: boolean } | null;
  items: TimelineItem[];
}

async function getLog(query: Record<string, string>): Promise<LogPage> {
  const res = await admin("GET", `/log?${new URLSearchParams(query).toString()}`);
  return (await expectStatus(res, 200)) as unknown as LogPage;
}

/**
 * Reads and error answers write their log row through waitUntil, after the response: poll
 * (bounded) until the wanted rows are there instead of assuming they already are.
 */
async function logUntil(query: Record<string, string>, done: (page: LogPage) => boolean): Promise<LogPage> {
  let page = await getLog(query);
  for (let i = 0; i < 50 && !done(page); i++) {
    await new Promise((r) => setTimeout(r, 20));
    page = await getLog(query);
  }
  return page;
}

async function timeline(id: string): Promise<Timeline> {
  return (await expectStatus(await admin("GET", `/users/${encodeURIComponent(id)}/timeline`), 200)) as unknown as Timeline;
}

describe("admin log API: auth", () => {
  const paths = ["/log", "/users/some-id/timeline"];
  for (const path of paths) {
    it(`GET ${path} is 401 without the admin token, with a wrong one, and with the SCIM token`, async () => {
      for (const token of [null, "wrong", SCIM_TOKEN]) {
        const res = await admin("GET", path, undefined, token);
        const body = await expectStatus(res, 401);
        expect(body.error).toBe("unauthorized");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    });
  }
});

describe("admin log API: the provisioning log", () => {
  beforeAll(async () => {
    await setSettings({ allowAdminPromotion: false, allowModeratorPromotion: false });
  });

  it("a SCIM request writes a log row with method, path, status and the user touched", async () => {
    const userName = uniqueName("Logged");
    const user = await createUser(oktaUser(userName));
    const id = user.id as string;
    const res = await scim("GET", `/Users/${id}`);
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await logUntil({ resourceId: id }, (p) => p.entries.some((e) => e.method === "GET"));
    const get = page.entries.find((e) => e.method === "GET");
    expect(get).toMatchObject({ path: `/api/scim/v2/Users/${id}`, status: 200, resourceType: "User", resourceId: id });
    const post = page.entries.find((e) => e.method === "POST");
    expect(post).toMatchObject({ status: 201, resourceId: id });
    // Newest first.
    expect(page.entries.map((e) => e.seq)).toEqual([...page.entries.map((e) => e.seq)].sort((a, b) => b - a));
  });

  it("filters by outcome: error, success, decision and quirk", async () => {
    const missing = `missing-${crypto.randomUUID()}`;
    expect((await scim("GET", `/Users/${missing}`)).status).toBe(404);
    const errors = await logUntil({ outcome: "error", q: missing }, (p) => p.entries.length > 0);
    expect(errors.entries).toHaveLength(1);
    expect(errors.entries[0]).toMatchObject({ status: 404 });
    expect(errors.entries[0]?.detail).toContain(missing);
    expect((await getLog({ outcome: "success", q: missing })).entries).toHaveLength(0);

    // Admin promotion is off: the role is kept and the log says why.
    const promoted = await createUser(oktaUser(uniqueName("Kept"), { userType: "Admin" }));
    const decisions = await getLog({ outcome: "decision", resourceId: promoted.id as string });
    expect(decisions.entries.length).toBeGreaterThan(0);
    expect(decisions.entries.flatMap((e) => e.decisions).join("\n")).toMatch(/role kept.*admin promotion off/);

    // Entra without aadOptscim062020 sends booleans as strings: tolerated and logged as a quirk.
    const quirky = await createUser(oktaUser(uniqueName("Quirky"), { active: "True" }));
    const quirks = await getLog({ outcome: "quirk", resourceId: quirky.id as string });
    expect(quirks.entries).toHaveLength(1);
    expect(quirks.entries[0]?.quirks.join("\n")).toContain("active");
    const plain = await getLog({ outcome: "quirk", resourceId: promoted.id as string });
    expect(plain.entries).toHaveLength(0);
  });

  it("searches path, resource id and decisions; % and _ match literally", async () => {
    const user = await createUser(oktaUser(uniqueName("Search"), { userType: "Admin" }));
    const id = user.id as string;
    const byId = await getLog({ q: id.slice(4, 20) });
    expect(byId.entries.some((e) => e.resourceId === id)).toBe(true);
    const byDecision = await getLog({ q: "ADMIN PROMOTION OFF", resourceId: id });
    expect(byDecision.entries.length).toBeGreaterThan(0);
    expect((await getLog({ q: "%" })).entries.every((e) => JSON.stringify(e).includes("%"))).toBe(true);
    expect((await getLog({ q: `${id.slice(0, 8)}_` })).entries.every((e) => JSON.stringify(e).includes(`${id.slice(0, 8)}_`))).toBe(true);
  });

  it("pages newest first with limit and cursor, without gaps or repeats", async () => {
    const user = await createUser(oktaUser(uniqueName("Paged")));
    const id = user.id as string;
    for (let i = 0; i < 4; i++) expect((await scim("GET", `/Users/${id}`)).status).toBe(200);
    const all = await logUntil({ resourceId: id }, (p) => p.entries.length >= 5);
    expect(all.entries).toHaveLength(5);
    const first = await getLog({ resourceId: id, limit: "2" });
    expect(first.entries).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await getLog({ resourceId: id, limit: "2", cursor: first.nextCursor ?? "" });
    const third = await getLog({ resourceId: id, limit: "2", cursor: second.nextCursor ?? "" });
    expect(third.entries).toHaveLength(1);
    expect(third.nextCursor).toBeNull();
    const seqs = [...first.entries, ...second.entries, ...third.entries].map((e) => e.seq);
    expect(seqs).toEqual(all.entries.map((e) => e.seq));
  });

  it("answers 400 with {error, detail} for bad query values", async () => {
    for (const query of [
      "limit=0",
      "limit=201",
      "limit=ten",
      "cursor=abc",
      "cursor=-1",
      "outcome=maybe",
      `q=${"x".repeat(201)}`,
      "colour=red",
    ]) {
      const body = await expectStatus(await admin("GET", `/log?${query}`), 400);
      expect(body.error).toBe("invalid_query");
      expect(typeof body.detail).toBe("string");
    }
    // Empty values are "no filter": the page sends every field of its filter form.
    await expectStatus(await admin("GET", "/log?q=&resourceId=&outcome=&limit=5"), 200);
    const bad = await expectStatus(await admin("GET", "/users/x/timeline?limit=900"), 400);
    expect(bad.error).toBe("invalid_query");
  });
});

describe("admin log API: per-user timeline", () => {
  beforeAll(async () => {
    await setSettings({ allowAdminPromotion: true });
  });

  it("merges the user's requests and events, newest first, after a SCIM PATCH", async () => {
    const userName = uniqueName("Timeline");
    const user = await createUser(oktaUser(userName));
    const id = user.id as string;
    const patch = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { userType: "Admin", active: false } }],
    };
    const patched = await expectStatus(await scim("PATCH", `/Users/${id}`, patch), 200);
    expect(siteRole(patched)).toBe("admin");

    const t = await timeline(id);
    expect(t.found).toBe(true);
    expect(t.user).toMatchObject({ userName, role: "admin", active: false });
    const requests = t.items.filter((i) => i.kind === "request");
    expect(requests.map((r) => [r.method, r.status])).toEqual([
      ["PATCH", 200],
      ["POST", 201],
    ]);
    expect(requests[0]?.decisions?.join("\n")).toMatch(/role changed: registered → admin/);
    const events = t.items.filter((i) => i.kind === "event");
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(["user.created", "user.updated", "user.role_changed", "user.deactivated"]));
    for (const e of events) {
      expect(typeof e.state).toBe("string");
      expect(typeof e.attempts).toBe("number");
    }
    const times = t.items.map((i) => i.at);
    expect(times).toEqual([...times].sort().reverse());
    // The PATCH's events come before (newer than) the POST's request row.
    const postIndex = t.items.findIndex((i) => i.kind === "request" && i.method === "POST");
    const roleIndex = t.items.findIndex((i) => i.type === "user.role_changed");
    expect(roleIndex).toBeLessThan(postIndex);
  });

  it("an unknown id is 200 with found false and empty lists; a deleted user keeps its history", async () => {
    const unknown = await timeline(`nobody-${crypto.randomUUID()}`);
    expect(unknown).toMatchObject({ found: false, user: null, items: [] });

    const user = await createUser(oktaUser(uniqueName("Gone")));
    const id = user.id as string;
    expect((await scim("DELETE", `/Users/${id}`)).status).toBe(204);
    const gone = await timeline(id);
    expect(gone.found).toBe(false);
    expect(gone.items.some((i) => i.type === "user.deleted")).toBe(true);
    expect(gone.items.some((i) => i.kind === "request" && i.method === "DELETE")).toBe(true);
  });
});
