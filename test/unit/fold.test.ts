import { describe, expect, it } from "vitest";
import { matchesFilter } from "../../src/scim/filter/evaluate";
import { parseFilter } from "../../src/scim/filter/parser";
import { foldedDocument } from "../../src/scim/fold";
import { USER_RESOURCE } from "../../src/scim/schemas";
import { compareCodePoints } from "../../src/scim/text";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

describe("foldedDocument: the caseExact:false strings of a user, folded, under their stored keys", () => {
  it.each([
    { name: "a simple attribute", data: { displayName: "ÉMILE" }, folded: { displayName: "émile" } },
    { name: "NFKC then lower case", data: { nickName: "ﬁＡ" }, folded: { nickName: "fia" } },
    { name: "caseExact strings are left out", data: { userName: "Ann", externalId: "EXT-1" }, folded: { userName: "ann" } },
    { name: "non-strings are left out", data: { active: true, title: 5 }, folded: {} },
    {
      name: "a complex attribute",
      data: { name: { givenName: "Ørs", middleName: "" } },
      folded: { name: { givenName: "ørs", middleName: "" } },
    },
    {
      name: "multi-valued elements keep their positions (element k of one is element k of the other)",
      data: { emails: [{ value: "A@X", primary: true }, "junk", { type: "WORK" }] },
      folded: { emails: [{ value: "a@x" }, null, { type: "work" }] },
    },
    {
      name: "an extension under its URN key",
      data: { [ENT]: { department: "R&D", manager: { value: "M" } } },
      folded: { [ENT]: { department: "r&d" } },
    },
    { name: "unknown attributes are left out", data: { shoeSize: "XL" }, folded: {} },
  ])("$name", ({ data, folded }) => {
    expect(foldedDocument(data, USER_RESOURCE)).toEqual(folded);
  });
});

describe("compareCodePoints: the order of SQLite's BINARY collation", () => {
  it.each([
    { a: "a", b: "b", sign: -1 },
    { a: "b", b: "a", sign: 1 },
    { a: "ab", b: "a", sign: 1 },
    { a: "x", b: "x", sign: 0 },
    // U+1F600 is a surrogate pair in UTF-16 (0xD83D…), which `<` puts before U+E000.
    { a: "😀", b: "\uE000", sign: 1 },
    { a: "\uFFFF", b: "😀", sign: -1 },
    { a: "😀", b: "😁", sign: -1 },
  ])("$a vs $b → $sign", ({ a, b, sign }) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
  });

  it("the evaluator orders strings by code point", () => {
    const resource = { userName: "u", title: "😀 lead" };
    expect(matchesFilter(parseFilter('title gt "\uE000"', USER_RESOURCE), resource)).toBe(true);
    expect(matchesFilter(parseFilter('title lt "\uE000"', USER_RESOURCE), resource)).toBe(false);
  });
});
