import type { SQL } from "drizzle-orm";
import { ScimError } from "../scim/errors";
import type { AttrPath, CompareOp, Filter } from "../scim/filter/ast";
import { attributeOf, parseFilter, resolveAttributePath } from "../scim/filter/parser";
import { type AttributeDef, GROUP_SCHEMA_ID, type ResourceTypeDef, USER_SCHEMA_ID } from "../scim/schemas";
import { foldCase } from "../scim/text";
import { fragment } from "./sql";

/**
 * Filter AST → SQL WHERE fragment with `?` placeholders (SPEC §7, §11). Pure: no drizzle.
 * Values are only ever bound parameters; the only names written into the SQL text are
 * column names from the tables below and attribute names from schemas.ts (the allow-list).
 * Semantics match evaluate.ts: absent attributes match nothing except through ne / not
 * (ne is NOT eq, so rows without the attribute match `title ne "x"`); `eq null` is "not
 * present". SQL three-valued logic is kept out of NOT with COALESCE(…, 0).
 */

interface SqlColumn {
  /** Column expression(s); several mean "any of them" (the Okta `email` alias). */
  sql: string | readonly string[];
  /** The column holds foldCase(value): compare it with foldCase(filter value), hitting the index. */
  norm?: boolean;
  /** Never NULL, so a comparison on it is two-valued. */
  notNull?: boolean;
}

/** A multi-valued attribute stored as rows of another table (membership). */
interface SqlRelation {
  table: string;
  /** Alias prefix; a counter makes each use unique. */
  alias: string;
  /** The column holding the owning resource's id. */
  owner: string;
  /** Sub-attribute → column; other sub-attributes can't be filtered. */
  columns: Readonly<Record<string, string>>;
}

export interface SqlTarget {
  /** The core schema URN: paths under it are keyed without the URN below. */
  schema: string;
  id: string;
  seq: string;
  /** The JSON column with the SCIM attributes; extensions live under their URN key. */
  data: string;
  /** Path key (`userName`, `meta.lastModified`) → indexed column. Everything else is JSON. */
  columns: Readonly<Record<string, SqlColumn>>;
  relations: Readonly<Record<string, SqlRelation>>;
}

export const USER_SQL_TARGET: SqlTarget = {
  schema: USER_SCHEMA_ID,
  id: "u.id",
  seq: "u.seq",
  data: "u.data",
  columns: {
    id: { sql: "u.id", notNull: true },
    userName: { sql: "u.user_name_norm", norm: true, notNull: true },
    externalId: { sql: "u.external_id" },
    displayName: { sql: "u.display_name" },
    userType: { sql: "u.user_type" },
    active: { sql: "u.active", notNull: true },
    "meta.created": { sql: "u.created_at", notNull: true },
    "meta.lastModified": { sql: "u.updated_at", notNull: true },
    "meta.resourceType": { sql: "'User'", notNull: true },
    // Okta's "email" unique identifier: userName or the primary email (EMAIL_ALIAS in parser.ts).
    email: { sql: ["u.user_name_norm", "u.email_norm"], norm: true },
  },
  relations: {
    groups: { table: "group_members", alias: "gm", owner: "user_id", columns: { value: "group_id" } },
  },
};

export const GROUP_SQL_TARGET: SqlTarget = {
  schema: GROUP_SCHEMA_ID,
  id: "g.id",
  seq: "g.seq",
  data: "g.data",
  columns: {
    id: { sql: "g.id", notNull: true },
    displayName: { sql: "g.display_name_norm", norm: true, notNull: true },
    externalId: { sql: "g.external_id" },
    "meta.created": { sql: "g.created_at", notNull: true },
    "meta.lastModified": { sql: "g.updated_at", notNull: true },
    "meta.resourceType": { sql: "'Group'", notNull: true },
  },
  relations: {
    // JumpCloud and others look groups up by member: members[value eq "id"], members eq "id".
    members: { table: "group_members", alias: "gm", owner: "group_id", columns: { value: "user_id" } },
  },
};

export interface SqlFragment {
  text: string;
  params: (string | number)[];
}

interface Frag extends SqlFragment {
  /** Can evaluate to NULL (needs COALESCE under NOT). */
  nullable: boolean;
  /** Has a top-level OR (needs parentheses under AND). */
  or: boolean;
}

type Fold = "norm" | "lower" | "exact";

/** What a leaf compares: one or more SQL expressions of one attribute. */
interface Operand {
  exprs: readonly string[];
  fold: Fold;
  nullable: boolean;
  present: string;
}

type Scope =
  | { kind: "root" }
  | { kind: "json"; doc: string; base: string; parent: AttributeDef }
  | { kind: "relation"; alias: string; rel: SqlRelation; parent: AttributeDef };

const SQL_OPS: Partial<Record<CompareOp, string>> = { eq: "=", gt: ">", ge: ">=", lt: "<", le: "<=" };
const TEXT_TYPES = new Set(["string", "reference", "binary"]);

const invalid = (detail: string) => new ScimError(400, "invalidFilter", detail);
const frag = (text: string, params: (string | number)[], nullable = false): Frag => ({ text, params, nullable, or: false });
const paren = (f: Frag): string => (f.or ? `(${f.text})` : f.text);

function negate(f: Frag): Frag {
  return frag(f.nullable ? `NOT COALESCE(${f.text}, 0)` : `NOT (${f.text})`, f.params);
}

/** A JSON path label; names come from schemas.ts, this only guards against surprises. */
function label(name: string): string {
  if (!/^[A-Za-z0-9_$:.-]+$/.test(name)) throw invalid(`"${name}" can't be used in a filter.`);
  return `."${name}"`;
}

function foldFor(leaf: AttributeDef): Fold {
  return TEXT_TYPES.has(leaf.type) && !leaf.caseExact ? "lower" : "exact";
}

/** `%`, `_` and `\` are literal (SPEC §11); LIKE is ASCII case-insensitive, so only for folded values. */
const likeEscape = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`);
/** GLOB is case-sensitive (caseExact attributes); `*`, `?` and `[` are made literal as one-character classes. */
const globEscape = (v: string) => v.replace(/[*?[]/g, (c) => `[${c}]`);

function columnOperand(exprs: readonly string[], leaf: AttributeDef, notNull: boolean, norm: boolean): Operand {
  const textual = TEXT_TYPES.has(leaf.type);
  const one = (e: string) => (!textual ? `${e} IS NOT NULL` : notNull ? `${e} <> ''` : `(${e} IS NOT NULL AND ${e} <> '')`);
  const present = exprs.length > 1 ? `(${exprs.map(one).join(" OR ")})` : exprs.map(one).join("");
  return { exprs, fold: norm ? "norm" : foldFor(leaf), nullable: !notNull, present };
}

function jsonOperand(doc: string, path: string, leaf: AttributeDef): Operand {
  const type = `json_type(${doc}, '${path}')`;
  const value = `json_extract(${doc}, '${path}')`;
  // RFC 7644 §3.4.2.2 pr: not null, not "", not [] or {} (the same rule as evaluate.ts).
  const present =
    `CASE ${type} WHEN 'text' THEN ${value} <> '' WHEN 'array' THEN json_array_length(${doc}, '${path}') > 0 ` +
    `WHEN 'object' THEN ${value} <> '{}' WHEN 'null' THEN 0 ELSE ${type} IS NOT NULL END`;
  return { exprs: [value], fold: foldFor(leaf), nullable: true, present };
}

function comparison(op: CompareOp, value: string | number | boolean, o: Operand): Frag {
  const param = typeof value === "boolean" ? (value ? 1 : 0) : typeof value === "number" || o.fold === "exact" ? value : foldCase(value);
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const e of o.exprs) {
    const sqlOp = SQL_OPS[op];
    if (sqlOp) {
      parts.push(`${o.fold === "lower" ? `lower(${e})` : e} ${sqlOp} ?`);
      params.push(param);
      continue;
    }
    if (typeof param !== "string") throw invalid(`"${op}" needs a string value.`);
    const exact = o.fold === "exact";
    const lit = exact ? globEscape(param) : likeEscape(param);
    const any = exact ? "*" : "%";
    const pattern = op === "sw" ? `${lit}${any}` : op === "ew" ? `${any}${lit}` : `${any}${lit}${any}`;
    parts.push(exact ? `${e} GLOB ?` : `${e} LIKE ? ESCAPE '\\'`);
    params.push(pattern);
  }
  const text = parts.length > 1 ? `(${parts.join(" OR ")})` : parts.join("");
  return frag(text, params, o.nullable);
}

class Translator {
  private n = 0;

  constructor(private readonly t: SqlTarget) {}

  private alias(prefix: string): string {
    this.n++;
    return `${prefix}${this.n}`;
  }

  node(f: Filter, scope: Scope): Frag {
    switch (f.kind) {
      case "and": {
        const l = this.node(f.left, scope);
        const r = this.node(f.right, scope);
        return { text: `${paren(l)} AND ${paren(r)}`, params: [...l.params, ...r.params], nullable: l.nullable || r.nullable, or: false };
      }
      case "or": {
        const l = this.node(f.left, scope);
        const r = this.node(f.right, scope);
        return { text: `${l.text} OR ${r.text}`, params: [...l.params, ...r.params], nullable: l.nullable || r.nullable, or: true };
      }
      case "not":
        return negate(this.node(f.filter, scope));
      case "present":
        return this.leaf(f.path, scope, (o) => frag(o.present, []), true);
      case "compare": {
        const value = f.value;
        if (value === null) {
          const present = this.node({ kind: "present", path: f.path }, scope);
          return f.op === "ne" ? present : f.op === "eq" ? negate(present) : frag("0", []);
        }
        if (f.op === "ne") return negate(this.node({ ...f, op: "eq" }, scope));
        return this.leaf(f.path, scope, (o) => comparison(f.op, value, o), false);
      }
      case "valuePath":
        return this.valuePath(f.path, f.filter, scope);
    }
  }

  private key(path: AttrPath): string {
    const prefix = path.uri === this.t.schema ? "" : `${path.uri}:`;
    return `${prefix}${path.attr}${path.sub === undefined ? "" : `.${path.sub}`}`;
  }

  /** The JSON path of a root attribute: `$."name"` or `$."urn:…:User"."department"`. */
  private jsonBase(path: AttrPath): string {
    return `$${path.uri === this.t.schema ? "" : label(path.uri)}${label(path.attr)}`;
  }

  private relation(path: AttrPath): SqlRelation | undefined {
    return path.uri === this.t.schema ? this.t.relations[path.attr] : undefined;
  }

  private exists(rel: SqlRelation, inner: ((alias: string) => Frag) | undefined): Frag {
    const a = this.alias(rel.alias);
    const body = inner?.(a);
    const where = `${a}.${rel.owner} = ${this.t.id}${body ? ` AND ${paren(body)}` : ""}`;
    return frag(`EXISTS (SELECT 1 FROM ${rel.table} ${a} WHERE ${where})`, body?.params ?? []);
  }

  private eachElement(path: string, inner: (alias: string) => Frag): Frag {
    const a = this.alias("e");
    const body = inner(a);
    // Elements that are not objects are skipped (json_extract on them would be an error).
    const text = `EXISTS (SELECT 1 FROM json_each(${this.t.data}, '${path}') AS ${a} WHERE ${a}.type = 'object' AND ${paren(body)})`;
    return frag(text, body.params);
  }

  private leaf(path: AttrPath, scope: Scope, build: (o: Operand) => Frag, forPresent: boolean): Frag {
    if (scope.kind !== "root") {
      const leaf = attributeOf(path, scope.parent)?.leaf;
      if (!leaf) throw invalid(`Unknown attribute "${scope.parent.name}.${path.attr}" in the filter.`);
      if (scope.kind === "json") return build(jsonOperand(scope.doc, `${scope.base}${label(path.attr)}`, leaf));
      const column = scope.rel.columns[path.attr];
      if (!column) throw notFilterable(`${scope.parent.name}.${path.attr}`);
      return build(columnOperand([`${scope.alias}.${column}`], leaf, true, false));
    }
    const defs = attributeOf(path);
    if (!defs) throw invalid(`Unknown attribute "${this.key(path)}" in the filter.`);
    const column = this.t.columns[this.key(path)];
    if (column) {
      const exprs = typeof column.sql === "string" ? [column.sql] : column.sql;
      return build(columnOperand(exprs, defs.leaf, column.notNull === true, column.norm === true));
    }
    const rel = this.relation(path);
    if (rel) {
      if (path.sub === undefined) {
        if (!forPresent) throw invalid(`Compare a sub-attribute of "${path.attr}", e.g. ${path.attr}.value.`);
        return this.exists(rel, undefined);
      }
      const col = rel.columns[path.sub];
      if (!col) throw notFilterable(`${path.attr}.${path.sub}`);
      return this.exists(rel, (a) => build(columnOperand([`${a}.${col}`], defs.leaf, true, false)));
    }
    if (path.attr === "meta") throw notFilterable(this.key(path));
    const base = this.jsonBase(path);
    if (!defs.attr.multiValued) {
      return build(jsonOperand(this.t.data, path.sub === undefined ? base : `${base}${label(path.sub)}`, defs.leaf));
    }
    const sub = path.sub;
    if (sub === undefined) {
      if (!forPresent) throw invalid(`Compare a sub-attribute of "${path.attr}", e.g. ${path.attr}.value.`);
      return frag(`COALESCE(json_array_length(${this.t.data}, '${base}'), 0) > 0`, []);
    }
    return this.eachElement(base, (a) => build(jsonOperand(`${a}.value`, `$${label(sub)}`, defs.leaf)));
  }

  private valuePath(path: AttrPath, filter: Filter, scope: Scope): Frag {
    if (scope.kind !== "root") throw invalid("Value filters can't be nested.");
    const defs = attributeOf(path);
    if (defs?.attr.type !== "complex") throw invalid(`"${this.key(path)}" can't take a [filter].`);
    const parent = defs.attr;
    const rel = this.relation(path);
    if (rel) return this.exists(rel, (alias) => this.node(filter, { kind: "relation", alias, rel, parent }));
    if (path.attr === "meta") throw notFilterable("meta[...]");
    const base = this.jsonBase(path);
    if (!parent.multiValued) return this.node(filter, { kind: "json", doc: this.t.data, base, parent });
    return this.eachElement(base, (a) => this.node(filter, { kind: "json", doc: `${a}.value`, base: "$", parent }));
  }
}

function notFilterable(name: string): ScimError {
  return invalid(`Filtering on "${name}" is not supported.`);
}

/**
 * D1 binds at most 100 parameters per statement; the list query adds its own (LIMIT,
 * OFFSET, …), so a filter may bind this many values. Beyond it: 400, not a D1 error.
 */
export const MAX_FILTER_PARAMS = 80;

/** The WHERE fragment for a parsed filter; wrap nothing, it is safe to AND with more conditions. */
export function filterToSql(filter: Filter, target: SqlTarget): SqlFragment {
  const f = new Translator(target).node(filter, { kind: "root" });
  if (f.params.length > MAX_FILTER_PARAMS) {
    throw invalid(`The filter compares too many values (${f.params.length}; at most ${MAX_FILTER_PARAMS}): split the query.`);
  }
  return { text: f.or ? `(${f.text})` : f.text, params: f.params };
}

/**
 * ORDER BY terms for sortBy / sortOrder (RFC 7644 §3.4.2.3). Default: insertion order.
 * Case-insensitive strings sort folded; a multi-valued attribute sorts by its primary
 * (else first) value; unassigned values sort last; seq breaks ties so paging is stable
 * (Okta requires a consistent order). Unknown sortBy or sortOrder: 400 invalidValue.
 */
export function sortToSql(sortBy: string | undefined, sortOrder: string | undefined, rt: ResourceTypeDef, target: SqlTarget): string {
  const order = (sortOrder ?? "").trim().toLowerCase();
  if (order !== "" && order !== "ascending" && order !== "descending") {
    throw new ScimError(400, "invalidValue", `sortOrder must be "ascending" or "descending", not "${sortOrder ?? ""}".`);
  }
  const tieBreak = `${target.seq} ASC`;
  if (sortBy === undefined || sortBy.trim() === "") return tieBreak;
  const r = resolveAttributePath(sortBy, rt, "invalidValue");
  const cannot = (why: string) => new ScimError(400, "invalidValue", `Can't sort by "${sortBy}": ${why}.`);
  if (r.leaf.returned === "never") throw cannot("it is never returned");
  const leaf = r.leaf.type === "complex" ? r.leaf.subAttributes?.find((a) => a.name === "value") : r.leaf;
  if (!leaf) throw cannot("it is a complex attribute; sort by one of its sub-attributes");
  const path: AttrPath = leaf === r.leaf ? r.path : { ...r.path, sub: leaf.name };
  const fold = (e: string) => (foldFor(leaf) === "lower" ? `lower(${e})` : e);
  const key = path.uri === target.schema ? `${path.attr}${path.sub === undefined ? "" : `.${path.sub}`}` : "";
  const column = target.columns[key];
  let expr: string;
  if (column) {
    const first = typeof column.sql === "string" ? column.sql : (column.sql[0] ?? target.seq);
    expr = column.norm ? first : fold(first);
  } else if ((path.uri === target.schema && target.relations[path.attr]) || path.attr === "meta") {
    throw cannot("sorting on it is not supported");
  } else {
    const base = `$${path.uri === target.schema ? "" : label(path.uri)}${label(path.attr)}`;
    if (r.attr.multiValued && path.sub !== undefined) {
      const s = "s1";
      expr =
        `(SELECT ${fold(`json_extract(${s}.value, '$${label(path.sub)}')`)} FROM json_each(${target.data}, '${base}') AS ${s} ` +
        `WHERE ${s}.type = 'object' ORDER BY COALESCE(json_extract(${s}.value, '$."primary"'), 0) DESC, ${s}.key LIMIT 1)`;
    } else {
      expr = fold(`json_extract(${target.data}, '${path.sub === undefined ? base : `${base}${label(path.sub)}`}')`);
    }
  }
  return `${expr} ${order === "descending" ? "DESC" : "ASC"} NULLS LAST, ${tieBreak}`;
}

/**
 * The WHERE and ORDER BY of a list or .search request: the filter parsed against the resource
 * type (400 invalidFilter if it is not valid) and translated to bound SQL, and the sort order.
 */
export function listClauses(
  params: { filter: string | undefined; sortBy: string | undefined; sortOrder: string | undefined },
  rt: ResourceTypeDef,
  target: SqlTarget,
): { where: SQL; order: string } {
  const filter = params.filter !== undefined ? parseFilter(params.filter, rt) : undefined;
  const where = filter ? filterToSql(filter, target) : { text: "1 = 1", params: [] };
  return { where: fragment(where.text, where.params), order: sortToSql(params.sortBy, params.sortOrder, rt, target) };
}
