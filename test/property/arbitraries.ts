/**
 * fast-check generators derived from the schema definitions (src/scim/schemas.ts), so the
 * properties cover every attribute the service advertises rather than a hand-picked list.
 */
import fc from "fast-check";
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from "../../src/scim/filter/ast";
import { EMAIL_ALIAS } from "../../src/scim/filter/parser";
import { type AttributeDef, META_ATTRIBUTE, type ResourceTypeDef, USER_SCHEMA_ID } from "../../src/scim/schemas";
import { unpairedSurrogateAt } from "../../src/scim/text";

/** Any UTF-16 code unit, lone surrogates and control characters included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/** Strings as hostile as JSON allows: full Unicode, control characters, quotes, backslashes, lone surrogates. */
export const anyString = (maxLength = 16): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: anyCodeUnit, maxLength }),
    fc.constantFrom('"', "\\", '\\"', "%", "_", "\r\n", "ß", "İ", "ﬁ", "Σ", "\u0000", "]", ") or (", "__proto__"),
  );

/** A value a filter may compare: any Unicode text (an unpaired surrogate is no text, and a filter refuses it). */
const textValue = (): fc.Arbitrary<string> => anyString().filter((v) => unpairedSurrogateAt(v) === undefined);

/** A path the filter grammar can compare, with the definition of what it ends at. */
interface Leaf {
  path: AttrPath;
  def: AttributeDef;
}

/** A complex attribute usable as `attr[filter]`, with the relative leaves of its elements. */
interface ValuePathTarget {
  path: AttrPath;
  elementLeaves: Leaf[];
}

interface FilterVocabulary {
  leaves: Leaf[];
  /** Paths `pr` can take besides the leaves: complex attributes as a whole. */
  wholes: AttrPath[];
  valuePaths: ValuePathTarget[];
}

const filterable = (d: AttributeDef): boolean => d.returned !== "never";

function filterVocabulary(rt: ResourceTypeDef): FilterVocabulary {
  const leaves: Leaf[] = [];
  const wholes: AttrPath[] = [];
  const valuePaths: ValuePathTarget[] = [];
  for (const schema of [rt.schema, ...rt.extensions]) {
    const attrs = schema === rt.schema ? [...schema.attributes, META_ATTRIBUTE] : schema.attributes;
    for (const def of attrs.filter(filterable)) {
      if (def.type !== "complex") {
        leaves.push({ path: { uri: schema.id, attr: def.name }, def });
        continue;
      }
      wholes.push({ uri: schema.id, attr: def.name });
      const subs = (def.subAttributes ?? []).filter(filterable);
      for (const sub of subs) leaves.push({ path: { uri: schema.id, attr: def.name, sub: sub.name }, def: sub });
      if (def !== META_ATTRIBUTE) {
        valuePaths.push({
          path: { uri: schema.id, attr: def.name },
          elementLeaves: subs.map((sub) => ({ path: { uri: schema.id, attr: sub.name }, def: sub })),
        });
      }
    }
  }
  if (rt.schema.id === USER_SCHEMA_ID) {
    const def: AttributeDef = {
      name: EMAIL_ALIAS,
      type: "string",
      multiValued: false,
      description: "",
      required: false,
      caseExact: false,
      mutability: "readOnly",
      returned: "default",
      uniqueness: "none",
    };
    leaves.push({ path: { uri: USER_SCHEMA_ID, attr: EMAIL_ALIAS }, def });
  }
  return { leaves, wholes, valuePaths };
}

const isoDate = fc
  .date({ min: new Date("0001-01-01T00:00:00.000Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

const ORDERING: CompareOp[] = ["gt", "ge", "lt", "le"];
const SUBSTRING: CompareOp[] = ["co", "sw", "ew"];

/** A comparison the parser accepts for this attribute's type, as the AST the parser builds. */
function comparison(leaf: Leaf): fc.Arbitrary<Filter> {
  const make = (op: CompareOp, value: FilterValue): Filter => ({ kind: "compare", path: leaf.path, op, value });
  const nullable = fc.constantFrom<CompareOp>("eq", "ne").map((op) => make(op, null));
  switch (leaf.def.type) {
    case "boolean":
      return fc.oneof(
        fc.tuple(fc.constantFrom<CompareOp>("eq", "ne"), fc.boolean()).map(([op, v]) => make(op, v)),
        nullable,
      );
    case "dateTime":
      return fc.oneof(
        fc.tuple(fc.constantFrom<CompareOp>("eq", "ne", ...ORDERING), isoDate).map(([op, v]) => make(op, v)),
        // Substring operators compare the text as written.
        fc.tuple(fc.constantFrom(...SUBSTRING), textValue()).map(([op, v]) => make(op, v)),
        nullable,
      );
    case "integer":
    case "decimal":
      return fc.oneof(
        fc.tuple(fc.constantFrom<CompareOp>("eq", "ne", ...ORDERING), fc.integer({ min: -1e9, max: 1e9 })).map(([op, v]) => make(op, v)),
        nullable,
      );
    default:
      return fc.oneof(
        fc.tuple(fc.constantFrom<CompareOp>("eq", "ne", ...SUBSTRING, ...ORDERING), textValue()).map(([op, v]) => make(op, v)),
        nullable,
      );
  }
}

function atom(leaves: Leaf[], wholes: AttrPath[]): fc.Arbitrary<Filter> {
  const present = fc.constantFrom(...leaves.map((l) => l.path), ...wholes).map((path): Filter => ({ kind: "present", path }));
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...leaves).chain(comparison) }, { weight: 1, arbitrary: present });
}

/** Boolean combinations of `base`, at most `depth` levels deep. */
function combine(base: fc.Arbitrary<Filter>, depth: number): fc.Arbitrary<Filter> {
  const { f } = fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { depthSize: "small", maxDepth: depth },
      base,
      fc
        .tuple(fc.constantFrom<"and" | "or">("and", "or"), tie("f"), tie("f"))
        .map(([kind, left, right]): Filter => ({ kind, left, right })),
      tie("f").map((filter): Filter => ({ kind: "not", filter })),
    ),
  }));
  return f;
}

/** The filter inside `attr[...]`: paths relative to the element, no nested value paths. */
function elementFilter(target: ValuePathTarget, depth = 3): fc.Arbitrary<Filter> {
  return combine(atom(target.elementLeaves, []), depth);
}

/** Any filter the grammar allows over this resource type, as the parser's AST. */
export function filterAst(rt: ResourceTypeDef, depth = 4): fc.Arbitrary<Filter> {
  const v = filterVocabulary(rt);
  const valuePath = fc
    .constantFrom(...v.valuePaths)
    .chain((t) => elementFilter(t, 2).map((filter): Filter => ({ kind: "valuePath", path: t.path, filter })));
  return combine(fc.oneof({ weight: 4, arbitrary: atom(v.leaves, v.wholes) }, { weight: 1, arbitrary: valuePath }), depth);
}

/** Any PATCH path (RFC 7644 §3.5.2) over this resource type, as `parsePath` returns it. */
export function patchPathAst(rt: ResourceTypeDef): fc.Arbitrary<PatchPath> {
  const v = filterVocabulary(rt);
  // The email alias is a filter-only name.
  const plain = fc
    .constantFrom(...v.leaves.filter((l) => l.path.attr !== EMAIL_ALIAS).map((l) => l.path), ...v.wholes)
    .map((path): PatchPath => ({ path }));
  const filtered = fc
    .constantFrom(...v.valuePaths)
    .chain((t) =>
      fc
        .tuple(elementFilter(t, 2), fc.option(fc.constantFrom(...t.elementLeaves.map((l) => l.path.attr)), { nil: undefined }))
        .map(([filter, sub]): PatchPath => (sub === undefined ? { path: t.path, filter } : { path: t.path, filter, subAfterFilter: sub })),
    );
  return fc.oneof(plain, filtered);
}

/**
 * Upper-cases everything outside JSON string literals: attribute names, URNs, operators and
 * keywords are case-insensitive (RFC 7644 §3.4.2.2, §3.10), quoted values are not.
 */
export function shout(text: string): string {
  let out = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quoted && ch === "\\") {
      out += ch + text.charAt(i + 1);
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    out += quoted || ch === '"' ? ch : ch.toUpperCase();
  }
  return out;
}

/** Small random edits of a valid text: what a typo, a truncation or a hostile client produces. */
export function mutated(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.constantFrom("delete", "insert", "replace", "truncate", "duplicate"),
    fc.nat(),
    fc.oneof(
      fc.constantFrom("(", ")", "[", "]", '"', "\\", " ", ".", ":", "and", "or", "not", "pr", "eq", "\u0000", "\ud800"),
      anyString(3),
    ),
  );
  return fc.tuple(text, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([t, edits]) =>
    edits.reduce((s, [kind, at, piece]) => {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      switch (kind) {
        case "delete":
          return s.slice(0, i) + s.slice(i + 1);
        case "insert":
          return s.slice(0, i) + piece + s.slice(i);
        case "replace":
          return s.slice(0, i) + piece + s.slice(i + piece.length);
        case "truncate":
          return s.slice(0, i);
        default:
          return s.slice(0, i) + s.slice(i, i + 8).repeat(2) + s.slice(i + 8);
      }
    }, t),
  );
}
