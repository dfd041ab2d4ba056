import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CursorClaims, checkCursor, decodeCursor, encodeCursor, queryDigest } from "../../src/scim/cursor";
import { ScimError } from "../../src/scim/errors";
import { LIMITS } from "../../src/scim/limits";
import { listParamsFromQuery, listParamsFromSearch } from "../../src/scim/list-params";
import { type Candidate, type PageRequest, type Position, pageOfArray, pagingOf, planPage } from "../../src/scim/paging";
import { expectScimError } from "./scim-error";

const at = (seq: number, key: string | null = null, stage = 0): Position => ({ stage, key, seq });
const cands = (seqs: number[], fitting: number) => seqs.map((s, i): Candidate => ({ position: at(s), fits: i < fitting }));

describe("pagingOf: which paging a request asks for (RFC 9865 §2, RFC 7644 §3.4.2.4)", () => {
  it.each([
    { raw: { startIndex: undefined, count: undefined, cursor: undefined }, expected: { method: "index", startIndex: 1, count: 200 } },
    { raw: { startIndex: 0, count: "5", cursor: undefined }, expected: { method: "index", startIndex: 1, count: 5 } },
    { raw: { startIndex: 3, count: -4, cursor: null }, expected: { method: "index", startIndex: 3, count: 0 } },
    { raw: { startIndex: undefined, count: 1000, cursor: undefined }, expected: { method: "index", startIndex: 1, count: 200 } },
    { raw: { startIndex: undefined, count: undefined, cursor: "" }, expected: { method: "cursor", cursor: "", count: 200 } },
    { raw: { startIndex: undefined, count: "10", cursor: "abc.DEF-_~" }, expected: { method: "cursor", cursor: "abc.DEF-_~", count: 10 } },
    // A negative count is 0 (RFC 9865 §2's table), which is within 0..maxPageSize.
    { raw: { startIndex: undefined, count: -1, cursor: "" }, expected: { method: "cursor", cursor: "", count: 0 } },
    { raw: { startIndex: undefined, count: 200, cursor: "" }, expected: { method: "cursor", cursor: "", count: 200 } },
  ])("$raw → $expected", ({ raw, expected }) => {
    expect(pagingOf(raw)).toEqual(expected);
  });

  it.each([
    { raw: { startIndex: undefined, count: 201, cursor: "" }, status: 400, scimType: "invalidCount", detail: /between 0 and 200/ },
    { raw: { startIndex: undefined, count: "ten", cursor: "" }, status: 400, scimType: "invalidCount", detail: /integer/ },
    { raw: { startIndex: undefined, count: 1.5, cursor: "" }, status: 400, scimType: "invalidCount", detail: /integer/ },
    { raw: { startIndex: undefined, count: "ten", cursor: undefined }, status: 400, scimType: "invalidValue", detail: /integer/ },
    { raw: { startIndex: undefined, count: 5, cursor: "a b" }, status: 400, scimType: "invalidCursor", detail: /characters/ },
    { raw: { startIndex: undefined, count: 5, cursor: "a%2Fb" }, status: 400, scimType: "invalidCursor", detail: /characters/ },
    { raw: { startIndex: undefined, count: 5, cursor: 42 }, status: 400, scimType: "invalidCursor", detail: /characters/ },
    { raw: { startIndex: 1, count: 5, cursor: "" }, status: 400, scimType: "invalidValue", detail: /startIndex .* or cursor/ },
  ])("$raw → $status $scimType", ({ raw, status, scimType, detail }) => {
    expectScimError(() => pagingOf(raw), status, scimType, detail);
  });

  it("GET and .search read the same parameters, names in any case", () => {
    const get = listParamsFromQuery({ Cursor: "", COUNT: "7", filter: 'userName sw "a"', attributes: "userName,emails" });
    const search = listParamsFromSearch({ cursor: "", count: 7, filter: 'userName sw "a"', attributes: ["userName", "emails"] });
    expect(get).toEqual(search);
    expect(get.paging).toEqual({ method: "cursor", cursor: "", count: 7 });
  });
});

describe("planPage: which cursors a page answers with", () => {
  const page = (count: number, from?: { direction: "next" | "previous"; position: Position }) =>
    ({ method: "cursor", count, from }) as Extract<PageRequest, { method: "cursor" }>;
  it.each([
    // First page: never previousCursor; nextCursor while more follow (the extra candidate).
    { name: "first page, more follow", req: page(2), c: cands([1, 2, 3], 2), shown: 2, next: 2, previous: undefined },
    { name: "first page, the only one", req: page(2), c: cands([1, 2], 2), shown: 2, next: undefined, previous: undefined },
    { name: "empty list", req: page(2), c: cands([], 0), shown: 0, next: undefined, previous: undefined },
    // Cut by the byte budget: ends early, and goes on from the last shown.
    { name: "first page cut by size", req: page(3), c: cands([1, 2, 3, 4], 1), shown: 1, next: 1, previous: undefined },
    { name: "next page", req: page(2, { direction: "next", position: at(2) }), c: cands([5, 6, 7], 2), shown: 2, next: 6, previous: 5 },
    { name: "last page", req: page(2, { direction: "next", position: at(6) }), c: cands([7], 1), shown: 1, next: undefined, previous: 7 },
    {
      name: "past the end",
      req: page(2, { direction: "next", position: at(7) }),
      c: cands([], 0),
      shown: 0,
      next: undefined,
      previous: undefined,
    },
    // Read backwards: candidates nearest the cursor first; the page is them reversed.
    {
      name: "previous page, more before",
      req: page(2, { direction: "previous", position: at(5) }),
      c: cands([4, 3, 2], 2),
      shown: 2,
      next: 4,
      previous: 3,
    },
    {
      name: "previous page reaching the start",
      req: page(2, { direction: "previous", position: at(3) }),
      c: cands([2, 1], 2),
      shown: 2,
      next: 2,
      previous: undefined,
    },
  ])("$name", ({ req, c, shown, next, previous }) => {
    const plan = planPage(req, c);
    expect(plan.shown).toBe(shown);
    expect(plan.next?.seq).toBe(next);
    expect(plan.previous?.seq).toBe(previous);
    expect(plan.tooLarge).toBe(false);
  });

  it("a first candidate that does not fit alone is tooLarge (the request is refused)", () => {
    expect(planPage(page(2), cands([1, 2], 0)).tooLarge).toBe(true);
  });

  it("a previous page with nothing before its cursor starts again from the first page", () => {
    expect(planPage(page(2, { direction: "previous", position: at(3) }), []).restart).toBe(true);
  });
});

describe("pageOfArray: a fixed list (e.g. the site's roles) pages like the directory", () => {
  const items = ["registered", "moderator", "admin", "d", "e"];

  it("by index", () => {
    expect(pageOfArray(items, { method: "index", startIndex: 2, count: 2 })).toEqual({ total: 5, items: ["moderator", "admin"] });
    expect(pageOfArray(items, { method: "index", startIndex: 9, count: 2 }).items).toEqual([]);
  });

  it("by cursor: forward visits each item once, and backward gives the same pages", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), (count) => {
        const pages: string[][] = [];
        let page = pageOfArray(items, { method: "cursor", count });
        expect(page.previous).toBeUndefined();
        pages.push(page.items);
        while (page.next) {
          page = pageOfArray(items, { method: "cursor", count, from: { direction: "next", position: page.next } });
          pages.push(page.items);
        }
        expect(pages.flat()).toEqual(items);
        // Back from the last page to the first, page by page.
        const back: string[][] = [page.items];
        while (page.previous) {
          page = pageOfArray(items, { method: "cursor", count, from: { direction: "previous", position: page.previous } });
          back.unshift(page.items);
        }
        expect(back).toEqual(pages);
      }),
    );
  });

  it("count 0 gives the total only", () => {
    expect(pageOfArray(items, { method: "cursor", count: 0 })).toEqual({ total: 5, items: [] });
  });
});

describe("cursors: signed, bound to their query, timed (RFC 9865 §2.1, §5.1)", () => {
  const key = () => crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]) as Promise<CryptoKey>;
  const claims: CursorClaims = {
    query: "q1",
    count: 10,
    issuedAt: 1_800_000_000,
    direction: "next",
    position: { stage: 1, key: "änne@x — 𝔘", seq: 42 },
  };

  it("round-trip, in RFC 3986 unreserved characters only", async () => {
    const k = await key();
    for (const c of [claims, { ...claims, direction: "previous" as const, position: { stage: 0, key: null, seq: 1 } }]) {
      const token = await encodeCursor(k, c);
      expect(token).toMatch(/^[A-Za-z0-9._~-]+$/);
      expect(await decodeCursor(k, token)).toEqual(c);
    }
    const numeric = { ...claims, position: { stage: 0, key: 1.5, seq: 9 } };
    expect(await decodeCursor(k, await encodeCursor(k, numeric))).toEqual(numeric);
  });

  it("any changed character, another key, or junk is 400 invalidCursor", async () => {
    const k = await key();
    const token = await encodeCursor(k, claims);
    const refused = async (t: string) => {
      const err = await decodeCursor(k, t).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, t).toBeInstanceOf(ScimError);
      expect((err as ScimError).scimType).toBe("invalidCursor");
    };
    // Every position, changed to its neighbour in the alphabet: a change in base64's unused low bits too.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < token.length; i++) {
      const ch = token[i] === "." ? "A" : (alphabet[(alphabet.indexOf(token[i] ?? "A") ^ 1) % 64] ?? "A");
      await refused(token.slice(0, i) + ch + token.slice(i + 1));
    }
    await refused(await encodeCursor(await key(), claims));
    for (const junk of ["", ".", "abc", "abc.def", `${token}.x`, token.replace(".", ""), "WzFd.AAAAAAAAAAAAAAAAAAAAAA"])
      await refused(junk);
  });

  it("checkCursor: another query is invalidCursor, another count invalidCount, past cursorTimeout expiredCursor", () => {
    const now = claims.issuedAt + 10;
    expect(() => checkCursor(claims, { query: "q1", count: 10, now })).not.toThrow();
    expectScimError(() => checkCursor(claims, { query: "q2", count: 10, now }), 400, "invalidCursor", /different query/);
    expectScimError(() => checkCursor(claims, { query: "q1", count: 11, now }), 400, "invalidCount", /stay 10/);
    expect(() => checkCursor(claims, { query: "q1", count: 10, now: claims.issuedAt + LIMITS.cursorTimeout })).not.toThrow();
    expectScimError(
      () => checkCursor(claims, { query: "q1", count: 10, now: claims.issuedAt + LIMITS.cursorTimeout + 1 }),
      400,
      "expiredCursor",
      /3600/,
    );
  });

  it("queryDigest: the same query written differently is the same; a different one is not", async () => {
    const base = {
      endpoint: "Users",
      filter: 'userName sw "a"',
      sortBy: "userName",
      sortOrder: undefined,
      attributes: "userName,emails",
      excludedAttributes: undefined,
    };
    const d = await queryDigest(base);
    expect(
      await queryDigest({ ...base, endpoint: "users", sortBy: " USERNAME ", sortOrder: "Ascending", attributes: "UserName, emails" }),
    ).toBe(d);
    for (const other of [
      { ...base, endpoint: "Groups" },
      { ...base, filter: 'userName sw "b"' },
      { ...base, filter: undefined },
      { ...base, sortBy: "displayName" },
      { ...base, sortOrder: "descending" },
      { ...base, attributes: "userName" },
      { ...base, excludedAttributes: "emails" },
    ]) {
      expect(await queryDigest(other), JSON.stringify(other)).not.toBe(d);
    }
  });
});
