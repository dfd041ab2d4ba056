import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, type FeedCursor } from "../../src/site/cursor";

/** The pull feed's cursors (src/site/cursor.ts): opaque, signed, refused when changed in any way. */

const key = (secret: string) =>
  crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);

describe("feed cursors", () => {
  it.each<FeedCursor>([
    { position: 0, eventId: "" },
    { position: 1, eventId: "evt_3f1c0000000000000000000000000000" },
    { position: 123_456_789, eventId: "evt_job_abc_u42" },
    { position: Number.MAX_SAFE_INTEGER, eventId: "evt_x" },
  ])("round-trips $position $eventId, and says neither in clear", async (cursor) => {
    const k = await key("one");
    const text = await encodeCursor(k, cursor);
    expect(await decodeCursor(k, text)).toEqual(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    if (cursor.eventId) expect(text).not.toContain(cursor.eventId);
  });

  it("refuses a cursor with any one character changed, or signed with another key", async () => {
    const k = await key("one");
    const text = await encodeCursor(k, { position: 42, eventId: "evt_abc" });
    for (let i = 0; i < text.length; i++) {
      if (text[i] === ".") continue;
      const changed = text.slice(0, i) + (text[i] === "A" ? "B" : "A") + text.slice(i + 1);
      expect(await decodeCursor(k, changed), `character ${i}`).toBeUndefined();
    }
    expect(await decodeCursor(await key("two"), text)).toBeUndefined();
  });

  it.each(["", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", "ZjE6MTox", "ZjE6MTox.AAAA"])("refuses %j", async (text) => {
    expect(await decodeCursor(await key("one"), text)).toBeUndefined();
  });

  it("will not make a cursor of a negative, fractional or unsafe position, or an id with other characters", async () => {
    const k = await key("one");
    for (const bad of [
      { position: -1, eventId: "" },
      { position: 1.5, eventId: "" },
      { position: 2 ** 60, eventId: "" },
      { position: 1, eventId: "evt:1" },
    ]) {
      await expect(encodeCursor(k, bad)).rejects.toThrow("not a feed cursor");
    }
  });
});
