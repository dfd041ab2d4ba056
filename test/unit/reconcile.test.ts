import { describe, expect, it } from "vitest";
import { disagreement, parseSiteView, type SiteView } from "../../src/events/reconcile";
import { memberParts, RESYNC_MEMBER_PART, syncedEventId } from "../../src/jobs/resync";

/** A user.synced payload as the outbox stores it. */
const userPayload = (version: number, active: boolean, role: string) =>
  JSON.stringify({
    type: "user.synced",
    data: { id: "u1", version, user: { userName: "ada@example.com", active, roles: [{ value: role, primary: true }] } },
  });
const groupPayload = (version: number) =>
  JSON.stringify({ type: "group.synced", data: { id: "g1", version, group: { displayName: "Staff" } } });

describe("the site's view of a synced event", () => {
  const rows: { name: string; body: string | null; view: SiteView | null }[] = [
    { name: "no body", body: null, view: null },
    { name: "an empty body", body: "  ", view: null },
    { name: "not JSON", body: "ok", view: null },
    { name: "a JSON array", body: "[1]", view: null },
    { name: "an object with none of the fields", body: '{"ok":true}', view: null },
    { name: "all three fields", body: '{"version":3,"active":false,"role":"admin"}', view: { version: 3, active: false, role: "admin" } },
    { name: "wrongly typed fields are left out", body: '{"version":"3","active":"yes","role":"admin"}', view: { role: "admin" } },
    { name: "a non-finite version is left out", body: '{"version":1e999,"active":true}', view: { active: true } },
  ];
  it.each(rows)("$name", ({ body, view }) => {
    expect(parseSiteView(body)).toEqual(view);
  });
});

describe("where the site disagrees with the directory", () => {
  const rows: { name: string; payload: string; answer: string | null; fields: string[] | null }[] = [
    {
      name: "the same view agrees",
      payload: userPayload(3, true, "moderator"),
      answer: '{"version":3,"active":true,"role":"moderator"}',
      fields: null,
    },
    { name: "no answer says nothing", payload: userPayload(3, true, "moderator"), answer: null, fields: null },
    { name: "a different role", payload: userPayload(3, true, "moderator"), answer: '{"version":3,"role":"admin"}', fields: ["role"] },
    { name: "still active", payload: userPayload(3, false, "registered"), answer: '{"version":3,"active":true}', fields: ["active"] },
    {
      name: "behind: it did not apply it",
      payload: userPayload(3, true, "moderator"),
      answer: '{"version":2,"active":true,"role":"registered"}',
      fields: ["version", "role"],
    },
    {
      name: "ahead: a later change reached it first",
      payload: userPayload(3, true, "moderator"),
      answer: '{"version":4,"active":false,"role":"registered"}',
      fields: null,
    },
    { name: "a group behind", payload: groupPayload(5), answer: '{"version":4}', fields: ["version"] },
    { name: "a group at the same version", payload: groupPayload(5), answer: '{"version":5}', fields: null },
    { name: "an unreadable payload compares nothing", payload: "{", answer: '{"version":1}', fields: null },
  ];
  it.each(rows)("$name", ({ payload, answer, fields }) => {
    expect(disagreement(payload, answer)?.fields ?? null).toEqual(fields);
  });

  it("names the resource and keeps both views", () => {
    expect(disagreement(userPayload(3, true, "moderator"), '{"version":3,"role":"admin"}')).toEqual({
      fields: ["role"],
      site: { version: 3, role: "admin" },
      directory: { version: 3, active: true, role: "moderator" },
      name: "ada@example.com",
    });
  });
});

describe("a resync's events", () => {
  it("have ids fixed by the resync, the resource and the part", () => {
    expect(syncedEventId("resync_abc", "u", 42)).toBe("evt_abc_u42");
    expect(syncedEventId("resync_abc", "g", 7, 3)).toBe("evt_abc_g7_3");
  });

  const parts: { name: string; members: number; sizes: number[] }[] = [
    { name: "an empty group is one empty part", members: 0, sizes: [0] },
    { name: "a small group is one part", members: 3, sizes: [3] },
    { name: "exactly one part's worth", members: RESYNC_MEMBER_PART, sizes: [RESYNC_MEMBER_PART] },
    { name: "10,000 members are 10 parts", members: 10_000, sizes: Array(10).fill(RESYNC_MEMBER_PART) },
    { name: "a remainder is a last, shorter part", members: 2_001, sizes: [RESYNC_MEMBER_PART, RESYNC_MEMBER_PART, 1] },
  ];
  it.each(parts)("$name", ({ members, sizes }) => {
    const ids = Array.from({ length: members }, (_, i) => `u${i}`);
    const cut = memberParts(ids);
    expect(cut.map((p) => p.length)).toEqual(sizes);
    expect(cut.flat()).toEqual(ids);
  });
});
