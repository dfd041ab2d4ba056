import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ScimError } from "../../src/scim/errors";
import { MAX_FILTER_LENGTH, parseAttributeList, parseFilter, parsePath } from "../../src/scim/filter/parser";
import { printFilter, printPatchPath } from "../../src/scim/filter/print";
import { GROUP_RESOURCE, type ResourceTypeDef, USER_RESOURCE } from "../../src/scim/schemas";
import { anyString, filterAst, mutated, patchPathAst, shout } from "./arbitraries";

/**
 * Properties of the filter and PATCH-path parser (RFC 7644 §3.4.2.2, §3.5.2) over ASTs generated
 * from the schema: every valid filter prints and parses back to the same tree, in any letter
 * case, and no input at all makes the parser throw anything but a 400 ScimError.
 */

const RUNS = { numRuns: 200 };
const RESOURCE_TYPES: { name: string; rt: ResourceTypeDef }[] = [
  { name: "User", rt: USER_RESOURCE },
  { name: "Group", rt: GROUP_RESOURCE },
];

/** Runs fn; the only acceptable failure is a 400 ScimError of `scimType` with a readable detail. */
function onlyScimError(fn: () => unknown, scimType: string): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ScimError)) throw new Error(`threw a non-SCIM error: ${String(err)}`);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe(scimType);
    expect(err.detail.length).toBeGreaterThan(10);
  }
}

describe.each(RESOURCE_TYPES)("$name filters: parse ∘ print is the identity", ({ rt }) => {
  const printable = filterAst(rt, 3)
    .map((ast) => ({ ast, text: printFilter(ast) }))
    .filter(({ text }) => text.length <= MAX_FILTER_LENGTH);

  it("random valid filter ASTs print and parse back to the same AST", () => {
    fc.assert(
      fc.property(printable, ({ ast, text }) => {
        expect(parseFilter(text, rt), text).toEqual(ast);
      }),
      RUNS,
    );
  });

  it("printing is stable: print(parse(print(ast))) = print(ast)", () => {
    fc.assert(
      fc.property(printable, ({ text }) => {
        expect(printFilter(parseFilter(text, rt))).toBe(text);
      }),
      RUNS,
    );
  });

  it("names, URNs, operators and keywords are case-insensitive; quoted values are not touched", () => {
    fc.assert(
      fc.property(printable, ({ ast, text }) => {
        expect(parseFilter(shout(text), rt), shout(text)).toEqual(ast);
      }),
      RUNS,
    );
  });

  it("PATCH paths print and parse back to the same path", () => {
    fc.assert(
      fc.property(patchPathAst(rt), (p) => {
        const text = printPatchPath(p);
        expect(parsePath(text, rt), text).toEqual(p);
        expect(parsePath(shout(text), rt), shout(text)).toEqual(p);
      }),
      RUNS,
    );
  });
});

describe("garbage never throws anything but a 400 ScimError", () => {
  it("mutated valid filters: parseFilter fails only with invalidFilter", () => {
    const texts = mutated(filterAst(USER_RESOURCE, 3).map(printFilter));
    fc.assert(
      fc.property(texts, (text) => {
        onlyScimError(() => parseFilter(text, USER_RESOURCE), "invalidFilter");
        onlyScimError(() => parseFilter(text, GROUP_RESOURCE), "invalidFilter");
      }),
      RUNS,
    );
  });

  it("mutated valid PATCH paths: parsePath fails only with invalidPath; attribute lists never fail", () => {
    const texts = mutated(patchPathAst(USER_RESOURCE).map(printPatchPath));
    fc.assert(
      fc.property(texts, (text) => {
        onlyScimError(() => parsePath(text, USER_RESOURCE), "invalidPath");
        expect(() => parseAttributeList(text, USER_RESOURCE)).not.toThrow();
      }),
      RUNS,
    );
  });

  it("arbitrary strings, over-long and deeply nested inputs", () => {
    const hostile = fc.oneof(
      anyString(200),
      fc.nat({ max: 20_000 }).map((n) => "(".repeat(n)),
      fc.nat({ max: 2_000 }).map((n) => `${"emails[".repeat(n)}value eq "x"${"]".repeat(n)}`),
      fc.nat({ max: 200 }).map((n) => `${"not (".repeat(n)}userName pr${")".repeat(n)}`),
      fc
        .tuple(fc.nat({ max: 2_000 }), anyString(4))
        .map(([n, s]) => Array.from({ length: n }, () => `userName eq ${JSON.stringify(s)}`).join(" or ")),
    );
    fc.assert(
      fc.property(hostile, (text) => {
        onlyScimError(() => parseFilter(text, USER_RESOURCE), "invalidFilter");
        onlyScimError(() => parsePath(text, USER_RESOURCE), "invalidPath");
      }),
      RUNS,
    );
  });
});
