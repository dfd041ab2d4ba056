import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Filter } from "../../src/scim/filter/ast";
import { matchesFilter } from "../../src/scim/filter/evaluate";
import { parseFilter } from "../../src/scim/filter/parser";
import { USER_RESOURCE } from "../../src/scim/schemas";
import { expectStatus, type Json, scim, setSettings } from "../helpers";

/**
 * Any filter, through the Worker and real D1: 200 with exactly the users the pure evaluator
 * (src/scim/filter/evaluate.ts) selects from the same resources, or 400 invalidFilter, never a
 * 500. The users and the filters hold what broke it before: control characters and U+0000,
 * combining marks, final sigma, ß, invisible joiners, quotes and backslashes, and long flat
 * chains and deep nesting at the limits.
 */
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const tag = `p${Date.now().toString(36)}`;

const fixtures: Record<string, unknown>[] = [
  { userName: `ΟΔΟΣ@${tag}.example`, displayName: "Ὀδυσσεύς", name: { givenName: "ΣΊΣΥΦΟΣ", familyName: "Λαέρτιάδης" } },
  {
    userName: `Straße.Émile@${tag}.example`,
    displayName: "e\u0301mile ørsted",
    title: "Directeur\u0000Général",
    [ENT]: { department: "R&D" },
  },
  {
    userName: `nfd.e\u0301@${tag}.example`,
    nickName: "tab\there",
    emails: [
      { value: 'quote"d@x.example', type: "work" },
      { value: "back\\slash@x.example", type: "home", primary: true },
    ],
  },
  { userName: `ctl@${tag}.example`, displayName: "\u0001\u0002ctl\u007f", title: "😀 lead", name: { givenName: "a\u0000b\u0000c" } },
  { userName: `kırmızı@${tag}.example`, displayName: "İstanbul", name: { familyName: "IŞIK" } },
  { userName: `bob@${tag}.example`, displayName: "bo\u200Db", emails: [{ value: "A\u0000B@x.example", type: "work" }] },
  { userName: `ﬁle@${tag}.example`, name: { familyName: "ｆｕｌｌ", givenName: "ſigma" }, title: "ΣΊΣΥΦΟΣ" },
  { userName: `carol%_@${tag}.example`, title: "100%_done", displayName: 'a"b\\c', [ENT]: { department: "r&d", manager: { value: "M1" } } },
  { userName: `dave@${tag}.example`, active: false, emails: [{ value: "DAVE@X.EXAMPLE", type: "work" }], title: "" },
  { userName: `NUL\u0000-free@${tag}.example`.replace("\u0000", ""), displayName: "x\u0000yz\u0000", nickName: "\u0000" },
];

let resources: Json[] = [];

beforeAll(async () => {
  await setSettings();
  resources = [];
  for (const f of fixtures) {
    const created = await expectStatus(await scim("POST", "/Users", { ...f, externalId: tag }), 201);
    resources.push(created);
  }
}, 60_000);

const ATTRS = [
  "userName",
  "displayName",
  "title",
  "nickName",
  "name.givenName",
  "name.familyName",
  "emails",
  "emails.value",
  "emails.type",
  "emails.primary",
  "email",
  "active",
  "externalId",
  "meta.created",
  `${ENT}:department`,
  "manager",
  "id",
];
const PIECES = [
  "\u0000",
  "a\u0000b",
  "Σ@",
  "Σ",
  "ς",
  "σ",
  "ss",
  "ß",
  "ẞ",
  "e\u0301",
  "é",
  "\u0301",
  "\u200D",
  "\t",
  "\u0001",
  "\u007f",
  "😀",
  '"',
  "\\",
  "%",
  "_",
  "ı",
  "i",
  "İ",
  "ﬁ",
  "fi",
  "ｆ",
  "@",
  "r&d",
  "ctl",
  "Ő",
  "ſ",
  " ",
];
/** Every string the users hold, for pieces cut from real values. */
const STORED = fixtures.flatMap((f) => (JSON.stringify(f).match(/"(?:[^"\\]|\\.)*"/g) ?? []).map((q) => JSON.parse(q) as string));

const text = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 4 }).map((p) => p.join("")),
  fc.tuple(fc.constantFrom(...STORED), fc.nat(), fc.nat(), fc.constantFrom("upper", "lower", "same", "nfd")).map(([v, a, b, how]) => {
    const chars = [...v];
    const from = a % (chars.length + 1);
    const piece = chars.slice(from, from + 1 + (b % 8)).join("");
    return how === "upper" ? piece.toUpperCase() : how === "lower" ? piece.toLowerCase() : how === "nfd" ? piece.normalize("NFD") : piece;
  }),
);
const value = fc.oneof(
  text.map((t) => JSON.stringify(t)),
  fc.constantFrom("true", "false", "null", "12", "2020-01-01T00:00:00Z"),
);
const simple = fc
  .tuple(fc.constantFrom(...ATTRS), fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"), value)
  .map(([a, op, v]) => (op === "pr" ? `${a} pr` : `${a} ${op} ${v}`));
const valuePath = fc
  .tuple(fc.constantFrom("type", "value", "primary"), fc.constantFrom("eq", "ne", "co", "sw", "ew"), value)
  .map(([sub, op, v]) => `emails[${sub} ${op} ${v}]`);
const { filter: nested } = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small" },
    simple,
    valuePath,
    fc.tuple(tie("filter"), fc.constantFrom("and", "or"), tie("filter")).map(([l, k, r]) => `${l} ${k} ${r}`),
    tie("filter").map((f) => `not (${f})`),
    tie("filter").map((f) => `(${f})`),
  ),
}));
/** Long flat chains (up to the 100-comparison limit, and past it) and deep nesting (to the 32-level limit, and past it). */
const chain = fc
  .tuple(
    fc.array(fc.oneof(simple, valuePath), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 2, max: 110 }),
    fc.constantFrom(" or ", " and "),
  )
  .map(([terms, n, k]) => Array.from({ length: n }, (_, i) => terms[i % terms.length]).join(k));
const deep = fc
  .tuple(fc.oneof(simple, valuePath), fc.integer({ min: 1, max: 34 }))
  .map(([t, n]) => `${"not (".repeat(n)}${t}${")".repeat(n)}`);
const anyFilter = fc.oneof(nested, nested, chain, deep);

describe("filters through the Worker agree with the evaluator, or are 400 invalidFilter, never 500", () => {
  it("for random filters over hostile users", async () => {
    const counts = { agreed: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(anyFilter, async (text) => {
        const full = `(${text}) and externalId eq "${tag}"`;
        const res = await scim("GET", `/Users?count=200&filter=${encodeURIComponent(full)}`);
        const body = (await res.json()) as Json;
        if (res.status === 400) {
          expect(body.scimType, full).toBe("invalidFilter");
          counts.refused++;
          return;
        }
        expect(res.status, `${full}\n${JSON.stringify(body)}`).toBe(200);
        const filter: Filter = parseFilter(full, USER_RESOURCE);
        const expected = resources.filter((r) => matchesFilter(filter, r)).map((r) => r.id);
        const got = ((body.Resources as Json[] | undefined) ?? []).map((r) => r.id);
        expect(new Set(got), full).toEqual(new Set(expected));
        expect(got.length, full).toBe(expected.length);
        counts.agreed++;
      }),
      { numRuns: 400 },
    );
    expect(counts.agreed).toBeGreaterThan(150);
    expect(counts.refused).toBeGreaterThan(5);
  }, 300_000);

  it.each([
    ["a NUL in a co value of 3 characters", 'displayName co "x\\u0000y"', 1],
    ["a NUL in sw and ew", 'name.givenName sw "a\\u0000b" and name.givenName ew "b\\u0000c"', 1],
    ["a NUL past the index: co after it", 'displayName co "yz\\u0000"', 1],
    ["Σ@ finds a word-final sigma", 'userName co "Σ@"', 1],
    ["a medial σ finds ΟΔΟΣ", `userName eq "οδοσ@${tag}.example"`, 1],
    ["ß is ss", 'userName co "STRASSE.é"', 1],
    ["NFD finds NFC", 'displayName sw "e\\u0301mile"', 1],
    ["a joiner is invisible to a filter", 'displayName eq "bob"', 1],
    ["a quote and a backslash", 'displayName co "a\\"b\\\\"', 1],
    ["a control character", 'displayName co "\\u0001\\u0002c"', 1],
  ])("%s", async (_, filter, n) => {
    const res = await expectStatus(await scim("GET", `/Users?filter=${encodeURIComponent(`(${filter}) and externalId eq "${tag}"`)}`), 200);
    expect(res.totalResults, filter).toBe(n);
  });
});
