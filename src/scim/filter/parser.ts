import { ScimError, type ScimType } from "../errors";
import { LIMITS } from "../limits";
import {
  ALL_SCHEMAS,
  type AttributeDef,
  findAttribute,
  META_ATTRIBUTE,
  type ResourceTypeDef,
  type SchemaDef,
  USER_SCHEMA_ID,
} from "../schemas";
import { unpairedSurrogateAt } from "../text";
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from "./ast";
import { describeToken, type Token, tokenize } from "./lexer";

/** SPEC §11: longer filters, or deeper nesting, are refused before any work is done. */
export const MAX_FILTER_LENGTH = 4096;
const MAX_FILTER_DEPTH = 32;
/**
 * Attribute comparisons (`eq`…`le` and `pr`, inside `[...]` too) one filter or PATCH path may
 * hold. Each becomes at most about 700 bytes of SQL (`department pr`, a JSON path read four ways),
 * so the whole stays well inside D1's 100,000-byte statement, with the list query around it
 * (test/unit/filter-sql.test.ts measures every attribute); and an `or` of 100 is more than any
 * client asks.
 */
export const MAX_FILTER_COMPARISONS = LIMITS.filterMaxComparisons;

/**
 * `email` is not a SCIM attribute, but Okta sends `filter=email eq "x"` when the admin sets
 * "Unique identifier field for users" to email. On Users it parses to the pseudo-path
 * { uri: USER_SCHEMA_ID, attr: "email" }, meaning "userName or the primary (else first)
 * email address", case-insensitively; filter-sql.ts maps it to the indexed
 * `user_name_norm` / `email_norm` columns and evaluate.ts reads the same two values.
 * Only filters accept it: PATCH paths, sortBy and `attributes` do not.
 */
export const EMAIL_ALIAS = "email";
const EMAIL_ALIAS_DEF: AttributeDef = {
  name: EMAIL_ALIAS,
  type: "string",
  multiValued: false,
  description: "Filter alias: userName or the primary email.",
  required: false,
  caseExact: false,
  mutability: "readOnly",
  returned: "default",
  uniqueness: "none",
};

const COMPARE_OPS: readonly string[] = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
const isCompareOp = (op: string): op is CompareOp => COMPARE_OPS.includes(op);
const OPS_HINT = "eq, ne, co, sw, ew, gt, ge, lt, le or pr";
const isWord = (t: Token | undefined, w: string): boolean => t?.kind === "word" && t.text.toLowerCase() === w;
const isLogical = (t: Token | undefined): boolean => isWord(t, "and") || isWord(t, "or");

export interface ResolvedAttr {
  path: AttrPath;
  /** The top-level attribute (or META_ATTRIBUTE). */
  attr: AttributeDef;
  /** The attribute the path ends at: the sub-attribute if there is one. */
  leaf: AttributeDef;
}

/** Where a name is looked up: the resource, or the element inside `attr[...]`. */
type Scope = { kind: "resource" } | { kind: "element"; parent: AttributeDef; uri: string };

/**
 * Resolves `name`, `name.sub`, `urn:...:name[.sub]` case-insensitively to canonical names.
 * Returns a human error detail instead of throwing, so callers pick the scimType.
 */
function resolveName(name: string, rt: ResourceTypeDef, allowAlias: boolean): ResolvedAttr | string {
  const lower = name.toLowerCase();
  const schemas: SchemaDef[] = [rt.schema, ...rt.extensions];
  const scoped = schemas.find((s) => lower.startsWith(`${s.id.toLowerCase()}:`));
  if (!scoped && lower.startsWith("urn:")) {
    return `"${name}" is not an attribute of a ${rt.name} schema (${schemas.map((s) => s.id).join(", ")}).`;
  }
  const rest = scoped ? name.slice(scoped.id.length + 1) : name;
  const [attrName = "", subName, ...extra] = rest.split(".");
  if (attrName === "" || subName === "" || extra.length > 0) return `Malformed attribute name "${name}".`;
  const isMeta = attrName.toLowerCase() === "meta";
  let uri = (scoped ?? rt.schema).id;
  let attr = findAttribute((scoped ?? rt.schema).attributes, attrName);
  if (!attr && isMeta && (!scoped || scoped === rt.schema)) attr = META_ATTRIBUTE;
  if (!attr && !scoped) {
    if (allowAlias && rt.schema.id === USER_SCHEMA_ID && attrName.toLowerCase() === EMAIL_ALIAS && subName === undefined) {
      return { path: { uri, attr: EMAIL_ALIAS }, attr: EMAIL_ALIAS_DEF, leaf: EMAIL_ALIAS_DEF };
    }
    // Extension attributes without their URN (`department eq "x"`): not RFC 7644 §3.10,
    // but unambiguous here, and some clients send it.
    for (const ext of rt.extensions) {
      attr = findAttribute(ext.attributes, attrName);
      if (attr) {
        uri = ext.id;
        break;
      }
    }
  }
  if (!attr) return `Unknown attribute "${name}": ${rt.name} resources have no such attribute.`;
  if (subName === undefined) return { path: { uri, attr: attr.name }, attr, leaf: attr };
  if (attr.type !== "complex") return `"${attr.name}" has no sub-attributes, so "${name}" names nothing.`;
  const sub = findAttribute(attr.subAttributes, subName);
  if (!sub) return `Unknown sub-attribute "${subName}" of "${attr.name}" in "${name}".`;
  return { path: { uri, attr: attr.name, sub: sub.name }, attr, leaf: sub };
}

/** Resolves one attribute name (sortBy and the like); failures are 400 with `scimType`. */
export function resolveAttributePath(name: string, rt: ResourceTypeDef, scimType: ScimType): ResolvedAttr {
  const r = resolveName(name.trim(), rt, false);
  if (typeof r === "string") throw new ScimError(400, scimType, r);
  return r;
}

/**
 * The definitions behind a parsed path, for evaluate.ts and filter-sql.ts. With `parent`
 * the path is relative to an element of that complex attribute (inside `attr[...]`).
 */
export function attributeOf(path: AttrPath, parent?: AttributeDef): { attr: AttributeDef; leaf: AttributeDef } | undefined {
  if (parent) {
    const sub = findAttribute(parent.subAttributes, path.attr);
    return sub ? { attr: sub, leaf: sub } : undefined;
  }
  if (path.uri === USER_SCHEMA_ID && path.attr === EMAIL_ALIAS) return { attr: EMAIL_ALIAS_DEF, leaf: EMAIL_ALIAS_DEF };
  const schema = ALL_SCHEMAS.find((s) => s.id === path.uri);
  if (!schema) return undefined;
  const attr = findAttribute(schema.attributes, path.attr) ?? (path.attr === "meta" ? META_ATTRIBUTE : undefined);
  if (!attr) return undefined;
  if (path.sub === undefined) return { attr, leaf: attr };
  const leaf = findAttribute(attr.subAttributes, path.sub);
  return leaf ? { attr, leaf } : undefined;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * An ISO 8601 / RFC 3339 date-time as UTC with milliseconds (`2015-10-10T21:38:21.861Z`),
 * the format of meta.created / meta.lastModified in storage, so they compare as strings.
 * Extra fraction digits are truncated (MP sends 7); no offset means UTC. Undefined if invalid.
 */
export function normaliseDateTime(text: string): string | undefined {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y = "", mo = "", d = "", h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(`${frac}00`.slice(0, 3)));
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0");
    date.setTime(date.getTime() - sign * minutes * 60_000);
  }
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** and/or chains become balanced trees, so a long flat chain is shallow (log n). */
function balance(kind: "and" | "or", terms: Filter[], lo = 0, hi = terms.length): Filter {
  const only = terms[lo];
  if (hi - lo === 1 && only) return only;
  const mid = lo + Math.ceil((hi - lo) / 2);
  return { kind, left: balance(kind, terms, lo, mid), right: balance(kind, terms, mid, hi) };
}

/** The comparisons (`compare` and `present` leaves) of a filter. */
export function comparisonsOf(f: Filter): number {
  switch (f.kind) {
    case "and":
    case "or":
      return comparisonsOf(f.left) + comparisonsOf(f.right);
    case "not":
    case "valuePath":
      return comparisonsOf(f.filter);
    default:
      return 1;
  }
}

function depthOf(f: Filter): number {
  switch (f.kind) {
    case "and":
    case "or":
      return 1 + Math.max(depthOf(f.left), depthOf(f.right));
    case "not":
    case "valuePath":
      return 1 + depthOf(f.filter);
    default:
      return 1;
  }
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly rt: ResourceTypeDef,
    private readonly scimType: ScimType,
    private readonly what: string,
  ) {}

  fail(detail: string): never {
    throw new ScimError(400, this.scimType, detail);
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  private next(): Token | undefined {
    const t = this.tokens[this.i];
    this.i++;
    return t;
  }

  /** Guards recursion: the parser never goes deeper than the limit, whatever the input. */
  private enter(t: Token): void {
    this.depth++;
    if (this.depth > MAX_FILTER_DEPTH) this.tooDeep(t);
  }

  tooDeep(t?: Token): never {
    const where = t ? ` at character ${t.pos}` : "";
    this.fail(
      `The ${this.what} is nested too deeply${where}: at most ${MAX_FILTER_DEPTH} levels of parentheses, not, [ ] and and/or are allowed.`,
    );
  }

  /** The parsed tree's limits: nesting (after and/or chains are balanced) and comparisons. */
  checkDepth(f: Filter): void {
    if (depthOf(f) > MAX_FILTER_DEPTH) this.tooDeep();
    const n = comparisonsOf(f);
    if (n > MAX_FILTER_COMPARISONS) {
      this.fail(
        `The ${this.what} has ${n} attribute comparisons; at most ${MAX_FILTER_COMPARISONS} are allowed: split it into several requests.`,
      );
    }
  }

  private close(open: Token): void {
    const want = open.kind === "lparen" ? ")" : "]";
    const t = this.next();
    if (t?.text === want && t.kind !== "string") {
      this.depth--;
      return;
    }
    if (!t)
      this.fail(
        `Unbalanced ${want === ")" ? "parentheses" : "brackets"}: the "${open.text}" at character ${open.pos} is never closed with "${want}".`,
      );
    this.fail(`Expected "${want}" to close the "${open.text}" at character ${open.pos}, but found ${describeToken(t)}.`);
  }

  patchPath(): PatchPath {
    const first = this.next();
    if (first?.kind !== "word") this.fail(`A PATCH path starts with an attribute name, not ${describeToken(first)}.`);
    const res = resolveName(first.text, this.rt, false);
    if (typeof res === "string") this.fail(res);
    if (this.peek()?.kind !== "lbracket") return { path: res.path };
    const filter = this.valueFilter(first, res, { kind: "resource" });
    this.checkDepth(filter);
    const out: PatchPath = { path: { uri: res.path.uri, attr: res.attr.name }, filter };
    const sub = this.subAfterFilter(res);
    if (sub) out.subAfterFilter = sub.name;
    return out;
  }

  expectEnd(): void {
    const t = this.peek();
    if (!t) return;
    if (t.kind === "rparen") this.fail(`Unbalanced parentheses: the ")" at character ${t.pos} has no matching "(".`);
    if (t.kind === "rbracket") this.fail(`Unbalanced brackets: the "]" at character ${t.pos} has no matching "[".`);
    const expected = this.what === "path" ? "the end of the path" : `"and", "or" or the end of the ${this.what}`;
    this.fail(`Unexpected ${describeToken(t)}: expected ${expected}.`);
  }

  parseOr(scope: Scope): Filter {
    const terms = [this.parseAnd(scope)];
    while (isWord(this.peek(), "or")) {
      this.next();
      terms.push(this.parseAnd(scope));
    }
    return balance("or", terms);
  }

  private parseAnd(scope: Scope): Filter {
    const terms = [this.parseUnary(scope)];
    while (isWord(this.peek(), "and")) {
      this.next();
      terms.push(this.parseUnary(scope));
    }
    return balance("and", terms);
  }

  private parseUnary(scope: Scope): Filter {
    const t = this.peek();
    if (t?.kind === "lparen") {
      this.next();
      this.enter(t);
      const inner = this.parseOr(scope);
      this.close(t);
      return inner;
    }
    if (t && isWord(t, "not")) {
      // RFC 7644 §3.4.2.2: not takes a parenthesised filter.
      const open = this.peek(1);
      if (open?.kind !== "lparen") {
        this.fail(`"not" at character ${t.pos} must be followed by a filter in parentheses, e.g. not (userName eq "x").`);
      }
      this.i += 2;
      this.enter(open);
      const inner = this.parseOr(scope);
      this.close(open);
      return { kind: "not", filter: inner };
    }
    return this.parseAttrExpr(scope);
  }

  private parseAttrExpr(scope: Scope): Filter {
    const t = this.next();
    if (!t) this.fail(`The ${this.what} ends where an attribute name was expected.`);
    if (t.kind !== "word" || isLogical(t)) this.fail(`Expected an attribute name but found ${describeToken(t)}.`);
    const res = this.resolve(t, scope);
    if (res.leaf.returned === "never" || res.attr.returned === "never") {
      this.fail(`"${res.attr.name}" can't be used in a filter: it is never returned (RFC 7643 §7).`);
    }
    if (this.peek()?.kind === "lbracket") return this.parseValuePath(t, res, scope);
    return this.parseComparison(t, res);
  }

  private resolve(t: Token, scope: Scope): ResolvedAttr {
    if (scope.kind === "resource") {
      // Only parseFilter parses names at resource scope, so the email alias applies.
      const r = resolveName(t.text, this.rt, true);
      if (typeof r === "string") this.fail(`${r} (character ${t.pos} of the ${this.what})`);
      return r;
    }
    const sub = findAttribute(scope.parent.subAttributes, t.text);
    if (!sub) {
      const names = (scope.parent.subAttributes ?? []).map((a) => a.name).join(", ");
      this.fail(`Unknown attribute "${t.text}" at character ${t.pos}: inside ${scope.parent.name}[...] use one of ${names}.`);
    }
    return { path: { uri: scope.uri, attr: sub.name }, attr: sub, leaf: sub };
  }

  /** `attr[filter]`, optionally followed by `.sub op value` (parsePath handles its own tail). */
  valueFilter(name: Token, res: ResolvedAttr, scope: Scope): Filter {
    if (scope.kind === "element")
      this.fail(`Value filters can't be nested: "[" after "${name.text}" at character ${name.pos} is inside another [...].`);
    if (res.path.sub !== undefined || res.attr.type !== "complex") {
      this.fail(`"${name.text}" is not a complex attribute, so it can't take a [filter] (character ${name.pos}).`);
    }
    const open = this.next();
    if (!open) this.fail(`Expected "[" after "${name.text}".`);
    this.enter(open);
    const inner = this.parseOr({ kind: "element", parent: res.attr, uri: res.path.uri });
    this.close(open);
    return inner;
  }

  /** `.value` right after `]`: a sub-attribute of the filtered attribute. */
  subAfterFilter(res: ResolvedAttr): AttributeDef | undefined {
    const t = this.peek();
    if (t?.kind !== "word" || !t.text.startsWith(".")) return undefined;
    this.next();
    const sub = findAttribute(res.attr.subAttributes, t.text.slice(1));
    if (!sub) this.fail(`Unknown sub-attribute "${t.text.slice(1)}" of "${res.attr.name}" at character ${t.pos}.`);
    return sub;
  }

  private parseValuePath(name: Token, res: ResolvedAttr, scope: Scope): Filter {
    const inner = this.valueFilter(name, res, scope);
    const path: AttrPath = { uri: res.path.uri, attr: res.attr.name };
    const sub = this.subAfterFilter(res);
    if (!sub) return { kind: "valuePath", path, filter: inner };
    // `emails[type eq "work"].value eq "a@b.c"` (Entra; FusionAuth issue 2456): not in the
    // RFC ABNF, read as emails[type eq "work" and value eq "a@b.c"].
    const subPath: AttrPath = { uri: res.path.uri, attr: sub.name };
    const compare = this.parseComparison(name, { path: subPath, attr: sub, leaf: sub });
    return { kind: "valuePath", path, filter: { kind: "and", left: inner, right: compare } };
  }

  private parseComparison(name: Token, res: ResolvedAttr): Filter {
    const opTok = this.next();
    if (!opTok) this.fail(`Missing operator after "${name.text}" at character ${name.pos}: use ${OPS_HINT}.`);
    if (opTok.kind !== "word") this.fail(`Expected an operator after "${name.text}" but found ${describeToken(opTok)}.`);
    const op = opTok.text.toLowerCase();
    if (op === "pr") {
      const v = this.peek();
      if (v && (v.kind === "string" || (v.kind === "word" && !isLogical(v)))) {
        this.fail(`"pr" (present) at character ${opTok.pos} takes no value, but ${describeToken(v)} follows it.`);
      }
      return { kind: "present", path: res.path };
    }
    if (!isCompareOp(op)) this.fail(`Unknown operator "${opTok.text}" at character ${opTok.pos}: use ${OPS_HINT}.`);
    let target = res;
    if (res.leaf.type === "complex") {
      // RFC 7644 §3.4.2.2: a multi-valued attribute without a sub-attribute compares its
      // `value` (`emails co "@x"` means emails.value); the same for manager.
      const value = findAttribute(res.leaf.subAttributes, "value");
      if (!value || res.path.sub !== undefined) {
        const subs = (res.leaf.subAttributes ?? []).map((a) => `${res.leaf.name}.${a.name}`).join(", ");
        this.fail(`"${name.text}" is a complex attribute and can't be compared directly; compare a sub-attribute (${subs}).`);
      }
      target = { path: { ...res.path, sub: value.name }, attr: res.attr, leaf: value };
    }
    const v = this.next();
    if (!v || (v.kind !== "string" && v.kind !== "word") || isLogical(v)) {
      this.fail(`Missing value after "${opTok.text}" at character ${opTok.pos}: give a quoted string, a number, true, false or null.`);
    }
    return { kind: "compare", path: target.path, op, value: this.coerce(v, target.leaf, op) };
  }

  /**
   * Reads the value for the attribute's type. Unquoted words that are not true, false,
   * null or a number are strings (CONFORMANCE §2, lenient); on a string attribute any
   * unquoted word, number or boolean is the string as written (`employeeNumber eq 0534`).
   */
  private coerce(v: Token, leaf: AttributeDef, op: CompareOp): FilterValue {
    const raw = v.text;
    // A "\uD800" escape alone: no stored value (UTF-8 in D1) can hold it, so nothing could match.
    const surrogate = unpairedSurrogateAt(raw);
    if (surrogate !== undefined) {
      this.fail(`The value at character ${v.pos} has an unpaired surrogate at its character ${surrogate}: it is not Unicode text.`);
    }
    const lower = raw.toLowerCase();
    const at = `at character ${v.pos}`;
    if (v.kind === "word" && lower === "null") {
      if (op !== "eq" && op !== "ne") this.fail(`null can only be compared with eq or ne, not "${op}" (${at}).`);
      return null;
    }
    const ordering = op === "gt" || op === "ge" || op === "lt" || op === "le";
    const substring = op === "co" || op === "sw" || op === "ew";
    switch (leaf.type) {
      case "boolean":
        if (op !== "eq" && op !== "ne") {
          this.fail(`"${leaf.name}" is boolean: only eq, ne and pr apply to it, not "${op}" (RFC 7644 §3.4.2.2).`);
        }
        // Entra writes booleans as "True"/"False" strings elsewhere; accept them here too.
        if (lower === "true") return true;
        if (lower === "false") return false;
        return this.fail(`"${leaf.name}" is boolean: compare it with true or false, not ${describeToken(v)}.`);
      case "integer":
      case "decimal": {
        const n = JSON_NUMBER.test(raw) ? Number(raw) : Number.NaN;
        if (substring || !Number.isFinite(n) || (leaf.type === "integer" && !Number.isInteger(n))) {
          this.fail(`"${leaf.name}" is a number: "${op}" ${describeToken(v)} doesn't apply.`);
        }
        return n;
      }
      case "binary":
        if (ordering) this.fail(`"${leaf.name}" is binary: gt, ge, lt and le don't apply (RFC 7644 §3.4.2.2).`);
        return raw;
      case "dateTime": {
        if (substring) return raw;
        const iso = normaliseDateTime(raw);
        if (iso === undefined) {
          this.fail(`"${leaf.name}" is a dateTime: ${describeToken(v)} is not a date such as "2011-05-13T04:42:34Z".`);
        }
        return iso;
      }
      default:
        return raw;
    }
  }
}

function tooLong(text: string, scimType: ScimType, what: string): void {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new ScimError(400, scimType, `The ${what} is too long (${text.length} characters; at most ${MAX_FILTER_LENGTH} are allowed).`);
  }
}

/**
 * Parses a filter (RFC 7644 §3.4.2.2) against a resource type. Names come out canonical;
 * dateTime values come out as UTC ISO strings with milliseconds. Any problem is a
 * ScimError 400 invalidFilter; no other exception escapes for any input.
 */
export function parseFilter(text: string, rt: ResourceTypeDef): Filter {
  tooLong(text, "invalidFilter", "filter");
  const tokens = tokenize(text, "invalidFilter", "filter");
  if (tokens.length === 0)
    throw new ScimError(400, "invalidFilter", 'The filter is empty: give an expression such as userName eq "bjensen".');
  const p: Parser = new Parser(tokens, rt, "invalidFilter", "filter");
  const filter = p.parseOr({ kind: "resource" });
  p.expectEnd();
  p.checkDepth(filter);
  return filter;
}

/** Parses a PATCH path (RFC 7644 §3.5.2): attr, attr.sub, attr[filter], attr[filter].sub, URN-prefixed. */
export function parsePath(text: string, rt: ResourceTypeDef): PatchPath {
  tooLong(text, "invalidPath", "path");
  const p: Parser = new Parser(tokenize(text, "invalidPath", "path"), rt, "invalidPath", "path");
  const out = p.patchPath();
  p.expectEnd();
  return out;
}

/** Splits on commas outside brackets and quotes. */
function splitList(csv: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < csv.length; i++) {
    const c = csv.charAt(i);
    if (c === '"' && csv.charAt(i - 1) !== "\\") quoted = !quoted;
    else if (!quoted && c === "[") depth++;
    else if (!quoted && c === "]") depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ",") {
      items.push(csv.slice(start, i));
      start = i + 1;
    }
  }
  items.push(csv.slice(start));
  return items;
}

/**
 * The `attributes` / `excludedAttributes` parameter (RFC 7644 §3.4.2.5). Lenient:
 * unknown names are skipped, and a `[filter]` suffix is dropped (CONFORMANCE item 96:
 * `attributes=emails[type eq "work"]` returns emails).
 */
export function parseAttributeList(csv: string, rt: ResourceTypeDef): AttrPath[] {
  const out: AttrPath[] = [];
  const seen = new Set<string>();
  for (const item of splitList(csv)) {
    const open = item.indexOf("[");
    const close = item.lastIndexOf("]");
    const name = (open < 0 ? item : item.slice(0, open) + (close > open ? item.slice(close + 1) : "")).trim();
    if (!name) continue;
    const r = resolveName(name, rt, false);
    if (typeof r === "string") continue;
    const key = `${r.path.uri}:${r.path.attr}.${r.path.sub ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r.path);
  }
  return out;
}
