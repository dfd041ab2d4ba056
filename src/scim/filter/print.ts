import { GROUP_SCHEMA_ID, USER_SCHEMA_ID } from "../schemas";
import type { AttrPath, Filter, FilterValue, PatchPath } from "./ast";

/**
 * Prints a filter AST back as RFC 7644 §3.4.2.2 text that `parseFilter` reads to the same AST
 * (parse ∘ print ≡ id, checked by test/property/filter.test.ts). Pure and total, so anything
 * that needs a filter as text (a log line, a query built from an AST) can use it.
 *
 * - Core attributes print by name, extension attributes with their URN (RFC 7644 §3.10), so a
 *   name never depends on the unprefixed-extension leniency of the parser.
 * - Strings print as JSON strings (the lexer reads JSON escapes), numbers and booleans as JSON
 *   literals, null as `null`.
 * - Every and/or operand that is itself and/or is parenthesised: the parser rebalances flat
 *   chains, so parentheses are what keeps the tree's exact shape.
 */
export function printFilter(filter: Filter): string {
  return print(filter, false);
}

/** Prints a PATCH path (RFC 7644 §3.5.2) that `parsePath` reads back to the same value. */
export function printPatchPath(p: PatchPath): string {
  const head = printPath(p.path, false);
  if (!p.filter) return head;
  return `${head}[${print(p.filter, true)}]${p.subAfterFilter !== undefined ? `.${p.subAfterFilter}` : ""}`;
}

const CORE_SCHEMAS: readonly string[] = [USER_SCHEMA_ID, GROUP_SCHEMA_ID];

/** Inside `attr[...]` paths are relative to the element: the sub-attribute's name alone. */
function printPath(path: AttrPath, inElement: boolean): string {
  if (inElement) return path.attr;
  const name = path.sub === undefined ? path.attr : `${path.attr}.${path.sub}`;
  return CORE_SCHEMAS.includes(path.uri) ? name : `${path.uri}:${name}`;
}

function printValue(value: FilterValue): string {
  if (value === null) return "null";
  if (typeof value === "number") {
    // JSON has no -0, NaN or Infinity; the parser never produces them either.
    return Object.is(value, -0) ? "0" : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

function operand(f: Filter, inElement: boolean): string {
  const text = print(f, inElement);
  return f.kind === "and" || f.kind === "or" ? `(${text})` : text;
}

function print(f: Filter, inElement: boolean): string {
  switch (f.kind) {
    case "compare":
      return `${printPath(f.path, inElement)} ${f.op} ${printValue(f.value)}`;
    case "present":
      return `${printPath(f.path, inElement)} pr`;
    case "and":
    case "or":
      return `${operand(f.left, inElement)} ${f.kind} ${operand(f.right, inElement)}`;
    case "not":
      return `not (${print(f.filter, inElement)})`;
    case "valuePath":
      return `${printPath(f.path, false)}[${print(f.filter, true)}]`;
  }
}
