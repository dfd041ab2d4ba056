import { type AttributeDef, GROUP_SCHEMA_ID, USER_SCHEMA_ID } from "../schemas";
import { compareCodePoints, foldCase } from "../text";
import type { AttrPath, CompareOp, Filter, FilterValue } from "./ast";
import { attributeOf, EMAIL_ALIAS, normaliseDateTime } from "./parser";

/**
 * In-memory filter evaluation over a stored resource (canonical keys, extension attributes
 * under their URN key), with the same semantics as filter-sql.ts:
 * - an absent attribute matches nothing, except through `ne` / `not` (ne is NOT eq);
 * - `eq null` means "not present", `ne null` means present;
 * - caseExact:false strings compare after NFKC + toLowerCase (RFC 7643 §2.2), the form
 *   the *_norm columns and data_fold hold;
 * - strings order by code point, as SQLite's BINARY collation does;
 * - a multi-valued attribute matches if any element does.
 */
export function matchesFilter(filter: Filter, resource: Record<string, unknown>, element?: AttrPath): boolean {
  // With `element`, `resource` is one element of that complex attribute and the filter's
  // paths are relative to it (the PATCH engine's `emails[type eq "work"]` targets).
  const parent = element ? attributeOf(element)?.attr : undefined;
  return evaluate(filter, resource, element ? (parent ?? ANY_ELEMENT) : undefined);
}

/** Element of an attribute we can't look up: every sub-attribute reads as a case-insensitive string. */
const ANY_ELEMENT: AttributeDef = {
  name: "",
  type: "complex",
  multiValued: true,
  description: "",
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Exact key first; stored data is canonical, but tolerate other spellings (RFC 7643 §2.1). */
function get(node: unknown, key: string): unknown {
  if (!isRecord(node)) return undefined;
  if (Object.hasOwn(node, key)) return node[key];
  const lower = key.toLowerCase();
  const found = Object.keys(node).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : node[found];
}

const toArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** RFC 7644 §3.4.2.2 pr: not null, not "", not an empty array or object. */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isRecord(v)) return Object.keys(v).length > 0;
  return true;
}

/** The primary (else first) email value: what the email_norm column holds. */
function primaryEmail(node: Record<string, unknown>): unknown {
  const emails = toArray(get(node, "emails"));
  const chosen = emails.find((e) => get(e, "primary") === true) ?? emails[0];
  return get(chosen, "value");
}

interface Located {
  leaf: AttributeDef | undefined;
  /** The candidate values; one match among them is enough. */
  values: unknown[];
}

function locate(path: AttrPath, node: Record<string, unknown>, parent: AttributeDef | undefined, forPresent: boolean): Located {
  const defs = parent === ANY_ELEMENT ? undefined : attributeOf(path, parent);
  if (parent) return { leaf: defs?.leaf, values: [get(node, path.attr)] };
  if (path.uri === USER_SCHEMA_ID && path.attr === EMAIL_ALIAS) {
    return { leaf: defs?.leaf, values: [get(node, "userName"), primaryEmail(node)] };
  }
  const core = path.uri === USER_SCHEMA_ID || path.uri === GROUP_SCHEMA_ID;
  const value = get(core ? node : get(node, path.uri), path.attr);
  if (defs?.attr.multiValued) {
    if (path.sub === undefined) return { leaf: defs.leaf, values: forPresent ? [value] : toArray(value) };
    const sub = path.sub;
    return { leaf: defs.leaf, values: toArray(value).map((e) => get(e, sub)) };
  }
  return { leaf: defs?.leaf, values: [path.sub === undefined ? value : get(value, path.sub)] };
}

function compareOne(op: CompareOp, actual: unknown, expected: string | number | boolean, leaf: AttributeDef | undefined): boolean {
  if (typeof expected === "boolean") return actual === expected;
  if (typeof expected === "number") {
    if (typeof actual !== "number") return false;
    return order(op, actual, expected);
  }
  if (typeof actual !== "string" && typeof actual !== "number") return false;
  let a = String(actual);
  let e = expected;
  const substring = op === "co" || op === "sw" || op === "ew";
  if (leaf?.type === "dateTime") {
    // The parser normalised the filter value; bring the stored one to the same UTC form.
    if (!substring) a = normaliseDateTime(a) ?? a;
  } else if (!leaf?.caseExact) {
    a = foldCase(a);
    e = foldCase(e);
  }
  if (op === "co") return a.includes(e);
  if (op === "sw") return a.startsWith(e);
  if (op === "ew") return a.endsWith(e);
  return order(op, a, e);
}

function order<T extends string | number>(op: CompareOp, a: T, e: T): boolean {
  const c = typeof a === "string" && typeof e === "string" ? compareCodePoints(a, e) : a < e ? -1 : a > e ? 1 : 0;
  switch (op) {
    case "eq":
      return a === e;
    case "gt":
      return c > 0;
    case "ge":
      return c >= 0;
    case "lt":
      return c < 0;
    case "le":
      return c <= 0;
    default:
      return false;
  }
}

function compare(op: CompareOp, value: FilterValue, located: Located): boolean {
  if (op === "ne") return !compare("eq", value, located);
  if (value === null) return op === "eq" && !located.values.some(isPresent);
  return located.values.some((v) => compareOne(op, v, value, located.leaf));
}

function evaluate(f: Filter, node: Record<string, unknown>, parent: AttributeDef | undefined): boolean {
  switch (f.kind) {
    case "and":
      return evaluate(f.left, node, parent) && evaluate(f.right, node, parent);
    case "or":
      return evaluate(f.left, node, parent) || evaluate(f.right, node, parent);
    case "not":
      return !evaluate(f.filter, node, parent);
    case "present":
      return locate(f.path, node, parent, true).values.some(isPresent);
    case "compare":
      return compare(f.op, f.value, locate(f.path, node, parent, false));
    case "valuePath": {
      const defs = attributeOf(f.path, parent);
      const elements = toArray(locate(f.path, node, parent, true).values[0]);
      return elements.some((el) => isRecord(el) && evaluate(f.filter, el, defs?.attr ?? ANY_ELEMENT));
    }
  }
}
