import { describe, expect, it } from "vitest";
import { clientKey, describeRefusals, MAX_CLIENTS_PER_MINUTE, RefusalCounter, refusedPath } from "../../src/log/refused";

describe("clientKey: IPv4 as is, IPv6 by its /64", () => {
  const rows = [
    { name: "IPv4", address: "203.0.113.7", want: "203.0.113.7" },
    { name: "IPv6 full", address: "2001:0db8:85a3:0042:1000:8a2e:0370:7334", want: "2001:db8:85a3:42::/64" },
    { name: "IPv6 in the same /64", address: "2001:db8:85a3:42:ffff::1", want: "2001:db8:85a3:42::/64" },
    { name: "IPv6 compressed in the prefix", address: "2001:db8::1", want: "2001:db8:0:0::/64" },
    { name: "IPv6 upper case", address: "2001:DB8:85A3:42::AB", want: "2001:db8:85a3:42::/64" },
    // RFC 4291 §2.5.5.2: a mapped address is its IPv4 client, in every spelling.
    { name: "IPv4-mapped IPv6", address: "::ffff:192.0.2.1", want: "192.0.2.1" },
    { name: "IPv4-mapped IPv6, another client", address: "::ffff:192.0.2.2", want: "192.0.2.2" },
    { name: "IPv4-mapped IPv6 in hex", address: "::ffff:c000:201", want: "192.0.2.1" },
    { name: "IPv4-mapped IPv6 in full, upper case", address: "0:0:0:0:0:FFFF:C000:0201", want: "192.0.2.1" },
    { name: "IPv4-mapped IPv6 with a zero group", address: "::ffff:0.0.0.1", want: "0.0.0.1" },
    { name: "not mapped: ::fffe:…", address: "::fffe:c000:201", want: "0:0:0:0::/64" },
    { name: "loopback", address: "::1", want: "0:0:0:0::/64" },
    { name: "absent", address: undefined, want: "unknown" },
    { name: "not an address: kept as given", address: "nonsense:::x", want: "nonsense:::x" },
  ];
  it.each(rows)("$name", ({ address, want }) => {
    expect(clientKey(address)).toBe(want);
  });
});

describe("RefusalCounter: one counted row per client, reason and minute", () => {
  const T0 = Date.parse("2026-12-01T10:01:00.000Z");

  it("writes the first refusal, then as the count doubles, with one trailing write for the rest", () => {
    const counter = new RefusalCounter();
    const writes: number[] = [];
    const trailing: (() => { count: number } | undefined)[] = [];
    for (let i = 0; i < 300; i++) {
      const r = counter.record("203.0.113.7", "bad token", T0 + i * 10);
      if (r.now) writes.push(r.now.count);
      if (r.trailing) trailing.push(r.trailing);
    }
    expect(writes).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    // One trailing write is scheduled at a time; the last one brings the exact count.
    const last = trailing.at(-1)?.();
    expect(last?.count).toBe(300);
    expect(trailing.length).toBeLessThanOrEqual(writes.length);
  });

  it("one row for a client, whatever paths it tried; a new minute starts a new row", () => {
    const counter = new RefusalCounter();
    const a = counter.record("203.0.113.7", "no token", T0).now;
    const b = counter.record("203.0.113.7", "no token", T0 + 61_000).now;
    expect(a?.key).not.toBe(b?.key);
    expect(a?.count).toBe(1);
    expect(b?.count).toBe(1);
  });

  it(`at most ${MAX_CLIENTS_PER_MINUTE} clients get rows of their own in a minute; the rest share one`, () => {
    const counter = new RefusalCounter();
    const keys = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const r = counter.record(`198.51.100.${i % 250}`, "bad token", T0 + i);
      if (r.now) keys.add(r.now.key);
    }
    expect(keys.size).toBe(MAX_CLIENTS_PER_MINUTE + 1);
  });

  it("says how many, what, from whom and when", () => {
    const counter = new RefusalCounter();
    counter.record("203.0.113.7", "bad token", T0 + 2_000);
    const r = counter.record("203.0.113.7", "bad token", T0 + 59_000).now;
    expect(r && describeRefusals(r)).toBe("2 requests with a bad token from 203.0.113.7 between 10:01:02 and 10:01:59 UTC");
  });
});

describe("token endpoint refusals", () => {
  const T0 = Date.parse("2026-12-01T10:01:00.000Z");
  it("are token requests, stand for /oauth/token, and carry the latest refusal's note", () => {
    const counter = new RefusalCounter();
    counter.record('203.0.113.9 (OAuth client "Entra")', "invalid_client", T0 + 1_000, "wrong client_secret");
    const r = counter.record('203.0.113.9 (OAuth client "Entra")', "invalid_client", T0 + 2_000, "client secret ...abcd expired");
    expect(r.now && describeRefusals(r.now)).toBe(
      '2 token requests refused as invalid_client from 203.0.113.9 (OAuth client "Entra") between 10:01:01 and 10:01:02 UTC (latest: client secret ...abcd expired)',
    );
    expect(refusedPath("invalid_client")).toBe("/oauth/token");
    expect(refusedPath("bad token")).toBe("/api/scim/v2");
  });

  it("a note that changes buys no write of its own, and is cut to 300 characters", () => {
    const counter = new RefusalCounter();
    const writes: { i: number; note: string | undefined }[] = [];
    for (let i = 0; i < 100; i++) {
      const r = counter.record("198.51.100.1", "invalid_client", T0 + i, `note ${i} ${"x".repeat(400)}`);
      if (r.now) writes.push({ i, note: r.now.note });
    }
    // Written as the count doubles, whatever the notes: 1, 2, 4, ... 64 refusals.
    expect(writes.map((w) => w.i)).toEqual([0, 1, 3, 7, 15, 31, 63]);
    expect(writes.at(-1)?.note).toBe(`note 63 ${"x".repeat(292)}`);
  });
});
