import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  BASE,
  createUser,
  expectScimError,
  expectStatus,
  fetchWorker,
  type Json,
  json,
  oktaUser,
  ops,
  SCIM_TOKEN,
  SITE_USER,
  scim,
  setSettings,
  uniqueName,
} from "../helpers";

/**
 * Hostile and malformed input through the Worker's real fetch, against real D1: each request is
 * answered with a clear SCIM error (or stored as plain data), never a 500, and never changes
 * anything but the resource it names. A bystander user and group are checked after every test.
 */

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** `depth` levels of `{"a": ...}` around `inner`, as JSON text (no recursion, so any depth). */
const nestedObjects = (depth: number, inner = '"x"') => `${'{"a":'.repeat(depth)}${inner}${"}".repeat(depth)}`;
const nestedArrays = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** Replaces the JSON placeholder "$DEEP" in a body template with raw JSON text. */
const withRaw = (template: unknown, raw: string) => JSON.stringify(template).replace('"$DEEP"', raw);

let bystanderUser: Json;
let bystanderGroup: Json;
let bystanderEvents = 0;

async function eventCount(resourceId: string): Promise<number> {
  const r = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE resource_id = ?").bind(resourceId).first<{ n: number }>();
  return r?.n ?? 0;
}

beforeAll(async () => {
  await setSettings();
  bystanderUser = await createUser(oktaUser(uniqueName("Bystander")));
  bystanderGroup = await expectStatus(
    await scim("POST", "/Groups", { displayName: `Bystanders ${uniqueName()}`, members: [{ value: bystanderUser.id }] }),
    201,
  );
  bystanderUser = await json(await scim("GET", `/Users/${bystanderUser.id as string}`));
  bystanderGroup = await json(await scim("GET", `/Groups/${bystanderGroup.id as string}`));
  bystanderEvents = (await eventCount(bystanderUser.id as string)) + (await eventCount(bystanderGroup.id as string));
});

afterEach(async () => {
  // Nothing reached a prototype in this isolate (the Worker runs in it), and no one else changed.
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(await json(await scim("GET", `/Users/${bystanderUser.id as string}`))).toEqual(bystanderUser);
  expect(await json(await scim("GET", `/Groups/${bystanderGroup.id as string}`))).toEqual(bystanderGroup);
  expect((await eventCount(bystanderUser.id as string)) + (await eventCount(bystanderGroup.id as string))).toBe(bystanderEvents);
});

/** A SCIM error answer that leaks nothing internal: no stack frames, SQL, or exception names. */
async function expectCleanError(res: Response, status: number, scimType?: string): Promise<Json> {
  const body = await expectScimError(res, status, scimType);
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+:\d+:\d+|SQLITE|D1_ERROR|RangeError|TypeError|SELECT |INSERT |call stack/i);
  return body;
}

async function rawRequest(
  method: string,
  path: string,
  body: string | Uint8Array,
  contentType = "application/scim+json",
): Promise<Response> {
  return fetchWorker(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": contentType },
    body,
  });
}

async function newUser(extra: Record<string, unknown> = {}): Promise<Json> {
  return createUser(oktaUser(uniqueName(), extra));
}

describe("deeply nested JSON", () => {
  const DEPTH = 100_000; // ~600 KB: under the 1 MiB body limit, far deeper than any stack
  const objects = nestedObjects(DEPTH);
  const arrays = nestedArrays(DEPTH);

  // A value nested 100,000 levels deep where an attribute is expected: refused by name when the
  // attribute can't hold it; ignored when the nesting sits under unknown sub-attribute names.
  const posts: { name: string; template: Record<string, unknown>; raw: string; status: 400 | 201 }[] = [
    { name: "a string attribute (object)", template: { title: "$DEEP" }, raw: objects, status: 400 },
    { name: "a string attribute (array)", template: { title: "$DEEP" }, raw: arrays, status: 400 },
    { name: "a boolean", template: { active: "$DEEP" }, raw: objects, status: 400 },
    { name: "a complex attribute (array)", template: { name: "$DEEP" }, raw: arrays, status: 400 },
    { name: "a multi-valued attribute (arrays)", template: { emails: "$DEEP" }, raw: arrays, status: 400 },
    { name: "an extension's manager (array)", template: { [ENT]: { manager: "$DEEP" } }, raw: arrays, status: 400 },
    { name: "a complex attribute, under an unknown sub-attribute", template: { name: "$DEEP" }, raw: objects, status: 201 },
    { name: "an unknown attribute", template: { "urn:vendor:x": "$DEEP" }, raw: objects, status: 201 },
  ];
  for (const { name, template, raw, status } of posts) {
    it(`POST /Users with ${name} nested ${DEPTH} levels → ${status}`, async () => {
      const userName = uniqueName();
      const res = await rawRequest("POST", "/Users", withRaw({ userName, ...template }, raw));
      if (status === 201) {
        const created = await expectStatus(res, 201);
        expect(Object.keys(created).sort()).toEqual(["active", "id", "meta", "schemas", SITE_USER, "userName"]);
      } else {
        await expectCleanError(res, 400, "invalidValue");
      }
    });
  }

  it("PATCH with deeply nested values, with and without a path → 400, or ignored sub-attributes; never a 500", async () => {
    const u = await newUser();
    const path = `/Users/${u.id as string}`;
    for (const op of [
      { op: "replace", path: "title", value: "$DEEP" },
      { op: "add", path: "emails", value: "$DEEP" },
      { op: "replace", value: "$DEEP" },
      { op: "replace", path: `${ENT}:manager`, value: "$DEEP" },
    ]) {
      for (const raw of [objects, arrays]) {
        const res = await rawRequest("PATCH", path, withRaw(ops(op), raw));
        expect(res.status, await res.clone().text()).not.toBe(500);
        if (res.status !== 200) await expectCleanError(res, 400);
      }
    }
    // Nothing of the nesting was stored anywhere.
    const row = await env.DB.prepare("SELECT data FROM users WHERE id = ?").bind(u.id).first<{ data: string }>();
    expect(row?.data).not.toContain('{"a":');
  });

  it("the body itself nested 500,000 arrays deep → 400 invalidSyntax", async () => {
    await expectCleanError(await rawRequest("POST", "/Users", nestedArrays(500_000)), 400, "invalidSyntax");
  });

  it("/Bulk: an operation with deeply nested data is that operation's 400; the others still run", async () => {
    const deepName = uniqueName();
    const okName = uniqueName();
    const bulk = withRaw(
      {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "deep", data: { userName: deepName, "urn:vendor:x": "$DEEP" } },
          { method: "POST", path: "/Users", bulkId: "ok", data: { userName: okName } },
        ],
      },
      objects,
    );
    const res = await expectStatus(await rawRequest("POST", "/Bulk", bulk), 200);
    const [deep, ok] = res.Operations as Json[];
    expect(deep?.status).toBe("400");
    expect((deep?.response as Json | undefined)?.scimType).toBe("invalidValue");
    expect(ok?.status).toBe("201");
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${deepName}"`)}`));
    expect(found.totalResults).toBe(0);
  });

  it("/.search with a deeply nested parameter → 400", async () => {
    await expectCleanError(await rawRequest("POST", "/Users/.search", withRaw({ filter: "$DEEP" }, objects)), 400);
    await expectCleanError(await rawRequest("POST", "/.search", withRaw({ attributes: "$DEEP" }, arrays)), 400);
  });
});

describe("huge arrays and long strings", () => {
  it("10,000 emails on one user: 400 invalidValue on POST, PUT and PATCH; nothing stored", async () => {
    const emails = Array.from({ length: 10_000 }, (_, i) => ({ value: `e${i}@example.com`, type: "work" }));
    const before = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
    const post = await expectCleanError(await scim("POST", "/Users", { userName: uniqueName(), emails }), 400, "invalidValue");
    expect(post.detail).toMatch(/10000 values; at most 100/);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>())?.n).toBe(before?.n);

    const u = await newUser();
    const path = `/Users/${u.id as string}`;
    await expectCleanError(await scim("PUT", path, { ...oktaUser(u.userName as string), emails }), 400, "invalidValue");
    await expectCleanError(await scim("PATCH", path, ops({ op: "add", path: "emails", value: emails })), 400, "invalidValue");
    // 100 at a time does not get around the cap: the result of a PATCH is validated as a whole.
    const hundred = emails.slice(0, 100);
    await expectCleanError(await scim("PATCH", path, ops({ op: "add", path: "emails", value: hundred })), 400, "invalidValue");
    expect(await json(await scim("GET", path))).toEqual(u);
  });

  it("10,000 PATCH operations, a 100,000-element body and 10,000 unknown member ids → SCIM answers", async () => {
    const u = await newUser();
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ op: "replace", path: "title", value: `t${i}` }));
    const patched = await expectStatus(await scim("PATCH", `/Users/${u.id as string}`, ops(...many(1_000))), 200);
    expect(patched.title).toBe("t999");
    const tooMany = await expectCleanError(await scim("PATCH", `/Users/${u.id as string}`, ops(...many(10_000))), 400, "invalidValue");
    expect(tooMany.detail).toMatch(/10000 operations; at most 1000/);
    await expectCleanError(
      await rawRequest("POST", "/Users", JSON.stringify(Array.from({ length: 100_000 }, () => 1))),
      400,
      "invalidSyntax",
    );
    const members = Array.from({ length: 10_000 }, () => ({ value: crypto.randomUUID() }));
    const g = await expectCleanError(await scim("POST", "/Groups", { displayName: uniqueName("G"), members }), 400, "invalidValue");
    expect(g.detail).toMatch(/and 9995 more/);
  });

  it("strings over 8,192 characters are refused by name; an attribute name of 100,000 characters is ignored", async () => {
    const long = "x".repeat(8_193);
    const res = await expectCleanError(await scim("POST", "/Users", { userName: uniqueName(), title: long }), 400, "invalidValue");
    expect(res.detail).toMatch(/'title' is longer than 8192/);
    await expectCleanError(await scim("POST", "/Users", { userName: long }), 400, "invalidValue");
    const created = await expectStatus(await scim("POST", "/Users", { userName: uniqueName(), ["k".repeat(100_000)]: 1 }), 201);
    expect(Object.keys(created).some((k) => k.startsWith("kkk"))).toBe(false);
  });

  it("a long URL, filter, sortBy and attributes list → SCIM answers, the log keeps a bounded path", async () => {
    await expectCleanError(await scim("GET", `/Users/${"a".repeat(20_000)}`), 404);
    await expectCleanError(
      await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${"x".repeat(5_000)}"`)}`),
      400,
      "invalidFilter",
    );
    await expectCleanError(await scim("GET", `/Users?sortBy=${"y".repeat(5_000)}`), 400);
    await expectStatus(await scim("GET", `/Users?count=1&attributes=${"userName,".repeat(2_000)}`), 200);
    const longest = await env.DB.prepare("SELECT max(length(path)) AS n FROM provisioning_log").first<{ n: number }>();
    expect(longest?.n).toBeLessThanOrEqual(2_000);
  });
});

describe("invalid UTF-8 and invalid Unicode", () => {
  it("a body that is not UTF-8 → 400 invalidSyntax, nothing stored", async () => {
    const userName = uniqueName();
    const prefix = new TextEncoder().encode(`{"userName":"${userName}","title":"`);
    const body = new Uint8Array([...prefix, 0xff, 0xfe, 0xc3, 0x28, ...new TextEncoder().encode('"}')]);
    const res = await expectCleanError(await rawRequest("POST", "/Users", body), 400, "invalidSyntax");
    expect(res.detail).toMatch(/UTF-8/);
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`));
    expect(found.totalResults).toBe(0);
  });

  it("percent-encoded invalid UTF-8 in the path and the query → SCIM answers, never a 500", async () => {
    await expectCleanError(await scim("GET", "/Users/%FF%FE"), 404);
    const res = await scim("GET", "/Users?filter=userName%20eq%20%22%FF%22");
    expect(res.status, await res.clone().text()).toBeLessThan(500);
    const res2 = await scim("GET", "/Users?count=%C3%28");
    await expectCleanError(res2, 400);
  });

  it("lone surrogates and control characters in values are stored as plain data and come back as sent", async () => {
    const raw = `{"userName":"${uniqueName()}","displayName":"a\\ud800b","title":"c\\u0000d\\u001be","nickName":"\\udc00"}`;
    const created = await expectStatus(await rawRequest("POST", "/Users", raw), 201);
    expect(created.displayName).toBe("a\ud800b");
    expect(created.title).toBe("c\u0000d\u001be");
    const again = await json(await scim("GET", `/Users/${created.id as string}`));
    expect(again.displayName).toBe("a\ud800b");
    expect(again.nickName).toBe("\udc00");
  });

  it("a userName holding a lone surrogate is refused by name, never taken for another user's", async () => {
    const base = uniqueName();
    for (const lone of ["\\ud800", "\\udbff"]) {
      const err = await expectCleanError(await rawRequest("POST", "/Users", `{"userName":"${base}${lone}"}`), 400, "invalidValue");
      expect(err.detail).toMatch(/unpaired surrogate \(U\+D[8B]..\)/i);
    }
  });
});

describe("prototype-pollution keys", () => {
  it("__proto__ and constructor in a POST body are ignored as unknown attributes, at every level", async () => {
    const userName = uniqueName();
    const raw = `{"userName":"${userName}","__proto__":{"polluted":true,"active":false},"constructor":{"prototype":{"polluted":true}},
      "name":{"givenName":"G","__proto__":{"polluted":true}},"emails":[{"value":"${userName}","__proto__":{"primary":true}}],
      "${ENT}":{"__proto__":{"polluted":true},"department":"D"}}`;
    const created = await expectStatus(await rawRequest("POST", "/Users", raw), 201);
    expect(created.active).toBe(true);
    expect(created.name).toEqual({ givenName: "G" });
    expect(created.emails).toEqual([{ value: userName }]);
    expect(created[ENT]).toEqual({ department: "D" });
    const row = await env.DB.prepare("SELECT data FROM users WHERE id = ?").bind(created.id).first<{ data: string }>();
    expect(row?.data).not.toMatch(/__proto__|constructor|polluted/);
  });

  it("PATCH paths naming __proto__, constructor or prototype → 400 invalidPath; the user is unchanged", async () => {
    const u = await newUser();
    const path = `/Users/${u.id as string}`;
    for (const p of [
      "__proto__",
      "__proto__.polluted",
      "constructor",
      "constructor.prototype",
      "name.__proto__",
      "name.constructor",
      `${ENT}:__proto__`,
      'emails[__proto__ eq "x"].value',
      'emails[type eq "work"].__proto__',
      "toString",
      "hasOwnProperty",
    ]) {
      await expectCleanError(await scim("PATCH", path, ops({ op: "add", path: p, value: { polluted: true } })), 400, "invalidPath");
      await expectCleanError(await scim("PATCH", path, ops({ op: "remove", path: p })), 400, "invalidPath");
    }
    const pathless = `{"Operations":[{"op":"replace","value":{"__proto__":{"polluted":true}}}]}`;
    await expectCleanError(await rawRequest("PATCH", path, pathless), 400, "invalidPath");
    const opKeys = `{"Operations":[{"op":"replace","path":"title","value":"T","__proto__":{"op":"remove"}}],"__proto__":{"Operations":[]}}`;
    expect((await expectStatus(await rawRequest("PATCH", path, opKeys), 200)).title).toBe("T");
    const after = await json(await scim("GET", path));
    expect({ ...after, title: undefined, meta: undefined }).toEqual({ ...u, title: undefined, meta: undefined });
  });

  it("__proto__ and constructor in filters, sortBy and attributes → 400 invalidFilter, 400, or ignored", async () => {
    for (const f of ['__proto__ eq "x"', "constructor pr", 'emails[__proto__ eq "x"]', 'name.__proto__ eq "x"', 'toString eq "x"']) {
      await expectCleanError(await scim("GET", `/Users?filter=${encodeURIComponent(f)}`), 400, "invalidFilter");
    }
    await expectCleanError(await scim("GET", "/Users?sortBy=__proto__"), 400);
    const listed = await expectStatus(await scim("GET", "/Users?count=1&attributes=__proto__,constructor"), 200);
    expect(listed.itemsPerPage).toBe(1);
  });

  it("a user named __proto__ and a group named constructor are plain data: created, found, patched, deleted", async () => {
    const existing = await json(await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "__proto__"')}`));
    for (const r of (existing.Resources as Json[] | undefined) ?? []) await scim("DELETE", `/Users/${r.id as string}`);
    const u = await expectStatus(await scim("POST", "/Users", { userName: "__proto__", displayName: "constructor" }), 201);
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "__PROTO__"')}`));
    expect((found.Resources as Json[])[0]?.id).toBe(u.id);
    const patched = await expectStatus(
      await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "replace", path: "title", value: "prototype" })),
      200,
    );
    expect(patched.title).toBe("prototype");
    const g = await expectStatus(
      await scim("POST", "/Groups", { displayName: `constructor ${uniqueName()}`, members: [{ value: u.id }] }),
      201,
    );
    await expectStatus(await scim("DELETE", `/Groups/${g.id as string}`), 204);
    await expectStatus(await scim("DELETE", `/Users/${u.id as string}`), 204);
  });

  it("a Bulk request with bulkId __proto__ or constructor creates and refers like any other", async () => {
    const res = await expectStatus(
      await scim("POST", "/Bulk", {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "__proto__", data: { userName: uniqueName() } },
          {
            method: "POST",
            path: "/Groups",
            bulkId: "constructor",
            data: { displayName: uniqueName("G"), members: [{ value: "bulkId:__proto__" }] },
          },
        ],
      }),
      200,
    );
    const results = res.Operations as Json[];
    expect(results.map((r) => r.status)).toEqual(["201", "201"]);
    const groupId = String(results[1]?.location).split("/").pop() ?? "";
    const userId = String(results[0]?.location).split("/").pop() ?? "";
    const group = await json(await scim("GET", `/Groups/${groupId}`));
    expect((group.members as Json[]).map((m) => m.value)).toEqual([userId]);
  });
});

describe("CR/LF and other control characters", () => {
  it("CRLF in values is stored as plain data; no header or log line carries it", async () => {
    const userName = `crlf\r\nSet-Cookie: x=1\r\n${uniqueName()}`;
    const lines: string[] = [];
    const original = { log: console.log, warn: console.warn, error: console.error };
    const capture = (...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    };
    console.log = capture;
    console.warn = capture;
    console.error = capture;
    let res: Response;
    try {
      // No userName holds a line break: the 400 names it, as JSON, never as a raw line.
      const refused = await expectCleanError(await scim("POST", "/Users", { userName, displayName: "a\r\nb" }), 400, "invalidValue");
      expect(refused.detail).toContain(JSON.stringify(userName));
      expect(refused.detail).toContain("U+000D");
      res = await scim("POST", "/Users", { userName: `crlf-${uniqueName()}`, displayName: "a\r\nb", title: "\r\n" });
      const created = await expectStatus(res, 201);
      expect(created.displayName).toBe("a\r\nb");
      await scim("GET", `/Users/bad%0D%0Aid`);
    } finally {
      Object.assign(console, original);
    }
    res.headers.forEach((value) => expect(value).not.toMatch(/[\r\n]/));
    expect(res.headers.get("set-cookie")).toBeNull();
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
    const events = await env.DB.prepare("SELECT payload FROM events WHERE payload LIKE ?").bind(`%crlf%`).all<{ payload: string }>();
    for (const e of events.results) expect(() => JSON.parse(e.payload) as unknown).not.toThrow();
  });
});

describe("references that would run script in the site's pages are refused", () => {
  const refused = [
    { name: "profileUrl javascript:", body: { profileUrl: "javascript:alert(1)" } },
    { name: "profileUrl JavaScript: with spaces", body: { profileUrl: "  JavaScript:alert(document.cookie)" } },
    { name: "profileUrl data:text/html", body: { profileUrl: "data:text/html,<script>alert(1)</script>" } },
    { name: "profileUrl relative", body: { profileUrl: "/profile/me" } },
    { name: "photo javascript:", body: { photos: [{ value: "javascript:alert(1)", type: "photo" }] } },
    { name: "photo SVG data URL", body: { photos: [{ value: "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", type: "photo" }] } },
    { name: "manager $ref javascript:", body: { [ENT]: { manager: { value: "m1", $ref: "javascript:alert(1)" } } } },
    // Every spelling a WHATWG URL parser (every browser) reads as javascript: tabs and newlines
    // anywhere are dropped, C0 controls and spaces at either end are stripped, the scheme has no case.
    ...[
      "java\tscript:alert(1)",
      "java\nscript:alert(1)",
      "java\rscript:alert(1)",
      "\u0000javascript:alert(1)",
      "\u0001javascript:alert(1)",
      "\u001f javascript:alert(1)",
      "jAvAsCrIpT:alert(1)",
      "javascript:alert(1)\u0000",
      "j\ta\nv\ra\tscript:alert(1)",
    ].flatMap((spelling) => [
      { name: `manager $ref ${JSON.stringify(spelling)}`, body: { [ENT]: { manager: { value: "m1", $ref: spelling } } } },
      { name: `profileUrl ${JSON.stringify(spelling)}`, body: { profileUrl: spelling } },
      { name: `photo ${JSON.stringify(spelling)}`, body: { photos: [{ value: spelling }] } },
    ]),
    { name: "manager $ref vbscript: with a tab", body: { [ENT]: { manager: { value: "m1", $ref: "vb\tscript:msgbox(1)" } } } },
    {
      name: "manager $ref data: behind a control character",
      body: { [ENT]: { manager: { value: "m1", $ref: "\u0002data:text/html,x" } } },
    },
  ];
  it.each(refused)("POST with $name: 400 invalidValue, nothing stored", async ({ body }) => {
    const userName = uniqueName("Ref");
    const err = await expectCleanError(await scim("POST", "/Users", { userName, ...body }), 400, "invalidValue");
    expect(err.detail).toMatch(/http\(s\)/);
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`));
    expect(found.totalResults).toBe(0);
  });

  it("a group member's $ref is checked too, though it is never stored (POST and PATCH)", async () => {
    const member = await newUser();
    for (const $ref of ["java\tscript:alert(1)", "\u0001javascript:alert(1)"]) {
      const displayName = uniqueName("RefGroup");
      await expectCleanError(await scim("POST", "/Groups", { displayName, members: [{ value: member.id, $ref }] }), 400, "invalidValue");
      const found = await json(await scim("GET", `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`));
      expect(found.totalResults).toBe(0);
    }
    const group = await expectStatus(await scim("POST", "/Groups", { displayName: uniqueName("RefGroup") }), 201);
    await expectCleanError(
      await scim(
        "PATCH",
        `/Groups/${group.id as string}`,
        ops({ op: "add", path: "members", value: [{ value: member.id, $ref: "java\nscript:x" }] }),
      ),
      400,
      "invalidValue",
    );
    const after = await json(await scim("GET", `/Groups/${group.id as string}`));
    expect(after.members).toBeUndefined();
  });

  it("PATCH of a manager $ref with a tab in javascript: is 400 and the user is unchanged", async () => {
    const u = await newUser();
    const before = await json(await scim("GET", `/Users/${u.id as string}`));
    await expectCleanError(
      await scim(
        "PATCH",
        `/Users/${u.id as string}`,
        ops({ op: "replace", path: `${ENT}:manager`, value: { value: "m1", $ref: "java\tscript:alert(1)" } }),
      ),
      400,
      "invalidValue",
    );
    expect(await json(await scim("GET", `/Users/${u.id as string}`))).toEqual(before);
  });

  it("PATCH to a javascript: photo is 400 and the user is unchanged", async () => {
    const u = await newUser({ photos: [{ value: "https://example.com/me.png", type: "photo" }] });
    const before = await json(await scim("GET", `/Users/${u.id as string}`));
    await expectCleanError(
      await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "add", path: "photos", value: [{ value: "javascript:alert(1)" }] })),
      400,
      "invalidValue",
    );
    expect(await json(await scim("GET", `/Users/${u.id as string}`))).toEqual(before);
  });

  it.each([
    { name: "https profileUrl", body: { profileUrl: "https://example.com/u/1" } },
    { name: "http photo", body: { photos: [{ value: "http://example.com/p.jpg" }] } },
    { name: "PNG data photo", body: { photos: [{ value: "data:image/png;base64,iVBORw0KGgo=" }] } },
    { name: "relative manager $ref (Entra)", body: { [ENT]: { manager: { value: "m1", $ref: "../Users/m1" } } } },
    { name: "absolute https manager $ref", body: { [ENT]: { manager: { value: "m1", $ref: "https://idp.example/scim/v2/Users/m1" } } } },
    { name: "relative manager $ref with a colon after a slash", body: { [ENT]: { manager: { value: "m1", $ref: "Users/a:b" } } } },
  ])("accepts $name", async ({ body }) => {
    await expectStatus(await scim("POST", "/Users", { userName: uniqueName("Ok"), ...body }), 201);
  });
});
