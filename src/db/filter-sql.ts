import { type Column, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { ScimError } from "../scim/errors";
import type { AttrPath, CompareOp, Filter, FilterValue } from "../scim/filter/ast";
import { attributeOf, parseFilter, resolveAttributePath } from "../scim/filter/parser";
import { comparesFolded } from "../scim/fold";
import { type AttributeDef, GROUP_SCHEMA_ID, type ResourceTypeDef, SITE_USER_SCHEMA_ID, USER_SCHEMA_ID } from "../scim/schemas";
import { foldCase } from "../scim/text";
import { orderSql, type SortSpec } from "./list-sql";
import { groupMembers, groups, users } from "./schema";
import { indexText, TEXT_INDEX_PATHS } from "./text-index";

/**
 * Filter AST → a drizzle SQL condition (SPEC §7, §11), built from the schema's column objects.
 * Values are only ever bound parameters; the only text written into the SQL is column names
 * from the schema and JSON paths of attribute names from schemas.ts (the allow-list).
 * Semantics match evaluate.ts: absent attributes match nothing except through ne / not
 * (ne is NOT eq, so rows without the attribute match `title ne "x"`); `eq null` is "not
 * present". SQL three-valued logic is kept out of NOT with COALESCE(…, 0).
 *
 * caseExact:false strings compare Unicode-folded (RFC 7643 §2.2): through a `*_norm` column,
 * or through the row's folded copy (`data_fold`, src/scim/fold.ts), never SQLite's ASCII-only
 * lower(); a row not yet backfilled reads lower(data). co / sw / ew are instr / substr (D1
 * refuses LIKE patterns over 50 bytes), narrowed through the users_fts trigram index when the
 * attribute is in it and the folded value has at least 3 characters.
 */

/** The aliases list queries select from (src/db/users.ts, src/db/groups.ts). */
export const u = alias(users, "u");
export const g = alias(groups, "g");

interface SqlColumn {
  /** Column(s); several mean "any of them" (the Okta `email` alias). */
  columns: readonly (Column | SQL)[];
  /** The column holds foldCase(value): compare it with foldCase(filter value), hitting the index. */
  norm?: boolean;
  /** Never NULL, so a comparison on it is two-valued. */
  notNull?: boolean;
  /** No two rows share a value: an `eq` on it matches at most one. */
  unique?: boolean;
}

type MemberColumn = "userId" | "groupId";
/** An aliased group_members. */
type MemberTable = Readonly<Record<MemberColumn, Column>>;

/** A multi-valued attribute stored as rows of another table (membership). */
interface SqlRelation {
  /** Alias prefix; a counter makes each use unique. */
  alias: string;
  /** The column holding the owning resource's id. */
  owner: MemberColumn;
  /** Sub-attribute → column; other sub-attributes can't be filtered. */
  columns: Readonly<Record<string, MemberColumn>>;
}

export interface SqlTarget {
  /** The core schema URN: paths under it are keyed without the URN below. */
  schema: string;
  /** The aliased table the condition is written against, and its FROM clause. */
  from: SQL;
  id: Column;
  seq: Column;
  /** The JSON column with the SCIM attributes; extensions live under their URN key. */
  data: Column;
  /** The folded copy of `data` (caseExact:false strings only), NULL on rows not yet backfilled. */
  fold?: Column;
  /** Path key (`userName`, `meta.lastModified`) → indexed column. Everything else is JSON. */
  columns: Readonly<Record<string, SqlColumn>>;
  relations: Readonly<Record<string, SqlRelation>>;
  /** The trigram index (migrations/0006) and the FTS column set of each path key it holds. */
  textSearch?: { table: SQL; columns: Readonly<Record<string, string>> };
}

export const USER_SQL_TARGET: SqlTarget = {
  schema: USER_SCHEMA_ID,
  from: sql`${users} ${sql.identifier("u")}`,
  id: u.id,
  seq: u.seq,
  data: u.data,
  fold: u.dataFold,
  columns: {
    id: { columns: [u.id], notNull: true, unique: true },
    userName: { columns: [u.userNameNorm], norm: true, notNull: true, unique: true },
    externalId: { columns: [u.externalId] },
    active: { columns: [u.active], notNull: true },
    "meta.created": { columns: [u.createdAt], notNull: true },
    "meta.lastModified": { columns: [u.updatedAt], notNull: true },
    "meta.resourceType": { columns: [sql`'User'`], notNull: true },
    // Okta's "email" unique identifier: userName or the primary email (EMAIL_ALIAS in parser.ts).
    email: { columns: [u.userNameNorm, u.emailNorm], norm: true },
    // The effective site role (rendered from the column, never stored in data).
    [`${SITE_USER_SCHEMA_ID}:role`]: { columns: [u.role], notNull: true },
  },
  relations: {
    groups: { alias: "gm", owner: "userId", columns: { value: "groupId" } },
  },
  textSearch: { table: sql`${sql.identifier("users_fts")}`, columns: TEXT_INDEX_PATHS },
};

export const GROUP_SQL_TARGET: SqlTarget = {
  schema: GROUP_SCHEMA_ID,
  from: sql`${groups} ${sql.identifier("g")}`,
  id: g.id,
  seq: g.seq,
  data: g.data,
  columns: {
    id: { columns: [g.id], notNull: true, unique: true },
    displayName: { columns: [g.displayNameNorm], norm: true, notNull: true },
    externalId: { columns: [g.externalId] },
    "meta.created": { columns: [g.createdAt], notNull: true },
    "meta.lastModified": { columns: [g.updatedAt], notNull: true },
    "meta.resourceType": { columns: [sql`'Group'`], notNull: true },
  },
  relations: {
    // JumpCloud and others look groups up by member: members[value eq "id"], members eq "id".
    members: { alias: "gm", owner: "groupId", columns: { value: "userId" } },
  },
};

interface Frag {
  sql: SQL;
  /** Bound parameters it carries (D1 allows 100 per statement). */
  params: number;
  /** Can evaluate to NULL (needs COALESCE under NOT). */
  nullable: boolean;
  /** Has a top-level OR (needs parentheses under AND). */
  or: boolean;
}

type Fold = "norm" | "fold" | "exact";

/** What a leaf compares: one or more SQL expressions of one attribute. */
interface Operand {
  /** The values as compared: already folded unless `fold` is "exact". */
  exprs: readonly SQL[];
  fold: Fold;
  nullable: boolean;
  present: SQL;
}

/** Where a relative path (`$."value"`) is read: a JSON document and its folded twin. */
interface JsonDoc {
  doc: SQL;
  /** Prefix of paths inside the document (`$."name"` for name[...]). */
  base: string;
  /** The folded value at a path relative to this document, if the target has a folded copy. */
  folded: ((relative: string) => SQL) | undefined;
}

type Scope =
  | { kind: "root" }
  | { kind: "json"; at: JsonDoc; parent: AttributeDef }
  | { kind: "relation"; member: MemberTable; rel: SqlRelation; parent: AttributeDef };

const SQL_OPS: Partial<Record<CompareOp, string>> = { eq: "=", gt: ">", ge: ">=", lt: "<", le: "<=" };
const UTF8 = new TextEncoder();
/** The shortest value the trigram index can find (three characters make a trigram). */
const TRIGRAM = 3;

const invalid = (detail: string) => new ScimError(400, "invalidFilter", detail);
const frag = (s: SQL, params: number, nullable = false): Frag => ({ sql: s, params, nullable, or: false });
const paren = (f: Frag): SQL => (f.or ? sql`(${f.sql})` : f.sql);
/** A JSON path as an SQL string literal; label() keeps quotes out of it. */
const pathLit = (path: string): SQL => sql.raw(`'${path}'`);

function negate(f: Frag): Frag {
  return frag(f.nullable ? sql`NOT COALESCE(${f.sql}, 0)` : sql`NOT (${f.sql})`, f.params);
}

/** A JSON path label; names come from schemas.ts, this only guards against surprises. */
function label(name: string): string {
  if (!/^[A-Za-z0-9_$:.-]+$/.test(name)) throw invalid(`"${name}" can't be used in a filter.`);
  return `."${name}"`;
}

const TEXT_TYPES = new Set(["string", "reference", "binary"]);

function columnOperand(columns: readonly (Column | SQL)[], leaf: AttributeDef, notNull: boolean, norm: boolean): Operand {
  const textual = TEXT_TYPES.has(leaf.type);
  const one = (e: Column | SQL) => (!textual ? sql`${e} IS NOT NULL` : notNull ? sql`${e} <> ''` : sql`(${e} IS NOT NULL AND ${e} <> '')`);
  const exprs = columns.map((c) => sql`${c}`);
  const present = columns.length > 1 ? sql`(${sql.join(columns.map(one), sql` OR `)})` : one(columns[0] ?? sql`NULL`);
  const fold: Fold = norm ? "norm" : comparesFolded(leaf) ? "fold" : "exact";
  return { exprs: fold === "fold" ? exprs.map((e) => sql`lower(${e})`) : exprs, fold, nullable: !notNull, present };
}

function jsonOperand(at: JsonDoc, relative: string, leaf: AttributeDef): Operand {
  const path = pathLit(`${at.base}${relative.slice(1)}`);
  const type = sql`json_type(${at.doc}, ${path})`;
  const value = sql`json_extract(${at.doc}, ${path})`;
  // RFC 7644 §3.4.2.2 pr: not null, not "", not [] or {} (the same rule as evaluate.ts).
  const present = sql`CASE ${type} WHEN 'text' THEN ${value} <> '' WHEN 'array' THEN json_array_length(${at.doc}, ${path}) > 0 WHEN 'object' THEN ${value} <> '{}' WHEN 'null' THEN 0 ELSE ${type} IS NOT NULL END`;
  if (!comparesFolded(leaf)) return { exprs: [value], fold: "exact", nullable: true, present };
  const folded = at.folded ? sql`coalesce(${at.folded(`${at.base}${relative.slice(1)}`)}, lower(${value}))` : sql`lower(${value})`;
  return { exprs: [folded], fold: "fold", nullable: true, present };
}

/** The whole document of the target row (paths under `base`), with its folded copy. */
function rootDoc(t: SqlTarget, base = "$"): JsonDoc {
  const fold = t.fold;
  return { doc: sql`${t.data}`, base, folded: fold ? (p) => sql`json_extract(${fold}, ${pathLit(p)})` : undefined };
}

/** One element (a json_each row named `element`) of the array at `arrayPath`, with its folded twin. */
function elementDoc(t: SqlTarget, arrayPath: string, element: SQL): JsonDoc {
  const fold = t.fold;
  // Element k of the folded array is element k of the stored one (src/scim/fold.ts).
  const folded = fold
    ? (p: string) => sql`json_extract(${fold}, ${pathLit(`${arrayPath}[`)} || ${element}.key || ${pathLit(`]${p.slice(1)}`)})`
    : undefined;
  return { doc: sql`${element}.value`, base: "$", folded };
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
      // Both sides in parentheses: SQLite builds its expression tree from the text, and a flat
      // `a OR b OR c …` is a chain as deep as it is long (D1 refuses depth over 100: "Expression
      // tree is too large"). Parenthesised, its tree is the parser's balanced one, log2(n) deep.
      case "and": {
        const l = this.node(f.left, scope);
        const r = this.node(f.right, scope);
        return { sql: sql`(${l.sql}) AND (${r.sql})`, params: l.params + r.params, nullable: l.nullable || r.nullable, or: false };
      }
      case "or": {
        const l = this.node(f.left, scope);
        const r = this.node(f.right, scope);
        return { sql: sql`(${l.sql}) OR (${r.sql})`, params: l.params + r.params, nullable: l.nullable || r.nullable, or: true };
      }
      case "not":
        return negate(this.node(f.filter, scope));
      case "present":
        return this.leaf(f.path, scope, (o) => frag(o.present, 0), true);
      case "compare": {
        const value = f.value;
        if (value === null) {
          const present = this.node({ kind: "present", path: f.path }, scope);
          return f.op === "ne" ? present : f.op === "eq" ? negate(present) : frag(sql`0`, 0);
        }
        if (f.op === "ne") return negate(this.node({ ...f, op: "eq" }, scope));
        const compared = this.leaf(f.path, scope, (o) => this.comparison(f.op, value, o), false);
        return scope.kind === "root" ? this.narrowed(compared, [{ key: this.key(f.path), op: f.op, value }]) : compared;
      }
      case "valuePath":
        return this.valuePath(f.path, f.filter, scope);
    }
  }

  private comparison(op: CompareOp, value: string | number | boolean, o: Operand): Frag {
    const param = typeof value === "boolean" ? (value ? 1 : 0) : typeof value === "number" || o.fold === "exact" ? value : foldCase(value);
    const sqlOp = SQL_OPS[op];
    const parts: SQL[] = [];
    for (const e of o.exprs) {
      if (sqlOp) {
        parts.push(sql`${e} ${sql.raw(sqlOp)} ${param}`);
        continue;
      }
      if (typeof param !== "string") throw invalid(`"${op}" needs a string value.`);
      // UTF-8 bytes of a BLOB, not characters of TEXT: SQLite's substr() counts a text's characters
      // only up to its first U+0000, so "a\0b" would neither start with "a\0" nor end with "\0b".
      // A byte prefix (suffix) of well-formed UTF-8 that equals a whole string is a character one.
      const bytes = UTF8.encode(param).length;
      if (bytes === 0 || op === "co") parts.push(sql`instr(${e}, ${param}) > 0`);
      else if (op === "sw") parts.push(sql`substr(CAST(${e} AS BLOB), 1, ${sql.raw(String(bytes))}) = CAST(${param} AS BLOB)`);
      else parts.push(sql`substr(CAST(${e} AS BLOB), ${sql.raw(String(-bytes))}) = CAST(${param} AS BLOB)`);
    }
    const condition = parts.length > 1 ? sql`(${sql.join(parts, sql` OR `)})` : (parts[0] ?? sql`0`);
    return frag(condition, parts.length, o.nullable);
  }

  /**
   * `f` AND the rows the trigram index finds for each co / sw / ew comparison every match of `f`
   * must satisfy. The index holds exactly the values compared, so it finds a superset of those
   * rows and the result is `f` itself, read through the index instead of every row. Outside any
   * EXISTS, so the planner starts from the index (`emails.value co`, `emails[value co …]`).
   */
  private narrowed(f: Frag, required: readonly { key: string; op: CompareOp; value: FilterValue }[]): Frag {
    const ts = this.t.textSearch;
    if (!ts) return f;
    const searches: SQL[] = [];
    for (const { key, op, value } of required) {
      const columns = ts.columns[key];
      if (columns === undefined || (op !== "co" && op !== "sw" && op !== "ew") || typeof value !== "string") continue;
      const folded = foldCase(value);
      if ([...folded].length < TRIGRAM) continue;
      const query = `{${columns}} : "${indexText(folded).replaceAll('"', '""')}"`;
      searches.push(sql`${this.t.seq} IN (SELECT rowid FROM ${ts.table} WHERE ${ts.table} MATCH ${query})`);
    }
    if (searches.length === 0) return f;
    return {
      sql: sql`${sql.join(searches, sql` AND `)} AND ${paren(f)}`,
      params: f.params + searches.length,
      nullable: f.nullable,
      or: false,
    };
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

  private exists(rel: SqlRelation, inner: ((member: MemberTable) => Frag) | undefined): Frag {
    const name = this.alias(rel.alias);
    const member = alias(groupMembers, name);
    const body = inner?.(member);
    const owned = sql`${member[rel.owner]} = ${this.t.id}`;
    const where = body ? sql`${owned} AND ${paren(body)}` : owned;
    return frag(sql`EXISTS (SELECT 1 FROM ${groupMembers} ${sql.identifier(name)} WHERE ${where})`, body?.params ?? 0);
  }

  /** Some object element of the array at `base` satisfies `inner` (given the element as a document). */
  private eachElement(base: string, inner: (element: JsonDoc) => Frag): Frag {
    const name = sql`${sql.identifier(this.alias("e"))}`;
    const body = inner(elementDoc(this.t, base, name));
    // Elements that are not objects are skipped (json_extract on them would be an error).
    const text = sql`EXISTS (SELECT 1 FROM json_each(${this.t.data}, ${pathLit(base)}) AS ${name} WHERE ${name}.type = 'object' AND ${paren(body)})`;
    return frag(text, body.params);
  }

  private leaf(path: AttrPath, scope: Scope, build: (o: Operand) => Frag, forPresent: boolean): Frag {
    if (scope.kind !== "root") {
      const leaf = attributeOf(path, scope.parent)?.leaf;
      if (!leaf) throw invalid(`Unknown attribute "${scope.parent.name}.${path.attr}" in the filter.`);
      if (scope.kind === "json") return build(jsonOperand(scope.at, `$${label(path.attr)}`, leaf));
      const column = scope.rel.columns[path.attr];
      if (!column) throw notFilterable(`${scope.parent.name}.${path.attr}`);
      return build(columnOperand([scope.member[column]], leaf, true, false));
    }
    const defs = attributeOf(path);
    if (!defs) throw invalid(`Unknown attribute "${this.key(path)}" in the filter.`);
    const column = this.t.columns[this.key(path)];
    if (column) return build(columnOperand(column.columns, defs.leaf, column.notNull === true, column.norm === true));
    const rel = this.relation(path);
    if (rel) {
      if (path.sub === undefined) {
        if (!forPresent) throw invalid(`Compare a sub-attribute of "${path.attr}", e.g. ${path.attr}.value.`);
        return this.exists(rel, undefined);
      }
      const col = rel.columns[path.sub];
      if (!col) throw notFilterable(`${path.attr}.${path.sub}`);
      return this.exists(rel, (member) => build(columnOperand([member[col]], defs.leaf, true, false)));
    }
    if (path.attr === "meta") throw notFilterable(this.key(path));
    const base = this.jsonBase(path);
    if (!defs.attr.multiValued) {
      return build(jsonOperand(rootDoc(this.t), path.sub === undefined ? base : `${base}${label(path.sub)}`, defs.leaf));
    }
    const sub = path.sub;
    if (sub === undefined) {
      if (!forPresent) throw invalid(`Compare a sub-attribute of "${path.attr}", e.g. ${path.attr}.value.`);
      return frag(sql`COALESCE(json_array_length(${this.t.data}, ${pathLit(base)}), 0) > 0`, 0);
    }
    return this.eachElement(base, (element) => build(jsonOperand(element, `$${label(sub)}`, defs.leaf)));
  }

  private valuePath(path: AttrPath, filter: Filter, scope: Scope): Frag {
    if (scope.kind !== "root") throw invalid("Value filters can't be nested.");
    const defs = attributeOf(path);
    if (defs?.attr.type !== "complex") throw invalid(`"${this.key(path)}" can't take a [filter].`);
    const parent = defs.attr;
    const rel = this.relation(path);
    if (rel) {
      return this.exists(rel, (member) => this.node(filter, { kind: "relation", member, rel, parent }));
    }
    if (path.attr === "meta") throw notFilterable("meta[...]");
    const base = this.jsonBase(path);
    const inner = parent.multiValued
      ? this.eachElement(base, (at) => this.node(filter, { kind: "json", at, parent }))
      : this.node(filter, { kind: "json", at: rootDoc(this.t, base), parent });
    if (path.uri !== this.t.schema) return inner;
    return this.narrowed(
      inner,
      requiredComparisons(filter).map((c) => ({ key: `${path.attr}.${c.path.attr}`, op: c.op, value: c.value })),
    );
  }
}

/** The comparisons every match of `f` satisfies: its own, or both sides' of an `and`. */
function requiredComparisons(f: Filter): Extract<Filter, { kind: "compare" }>[] {
  if (f.kind === "compare") return [f];
  if (f.kind === "and") return [...requiredComparisons(f.left), ...requiredComparisons(f.right)];
  return [];
}

function notFilterable(name: string): ScimError {
  return invalid(`Filtering on "${name}" is not supported.`);
}

/**
 * D1 binds at most 100 parameters per statement; the list query adds its own (LIMIT,
 * OFFSET, …), so a filter may bind this many values. Beyond it: 400, not a D1 error.
 */
export const MAX_FILTER_PARAMS = 80;

/** The condition for a parsed filter; safe to AND with more conditions. */
export function filterToSql(filter: Filter, target: SqlTarget): SQL {
  const f = new Translator(target).node(filter, { kind: "root" });
  if (f.params > MAX_FILTER_PARAMS) {
    throw invalid(`The filter compares too many values (${f.params}; at most ${MAX_FILTER_PARAMS}): split the query.`);
  }
  return f.or ? sql`(${f.sql})` : f.sql;
}

/**
 * The order of sortBy / sortOrder (RFC 7644 §3.4.2.3); without sortBy, insertion order.
 * Case-insensitive strings sort folded; a multi-valued attribute sorts by its primary (else
 * first) value; unassigned values sort last; seq breaks ties so paging is stable (Okta requires a
 * consistent order). Unknown sortBy or sortOrder: 400 invalidValue.
 */
function sortOf(sortBy: string | undefined, sortOrder: string | undefined, rt: ResourceTypeDef, target: SqlTarget): SortSpec {
  const order = (sortOrder ?? "").trim().toLowerCase();
  if (order !== "" && order !== "ascending" && order !== "descending") {
    throw new ScimError(400, "invalidValue", `sortOrder must be "ascending" or "descending", not "${sortOrder ?? ""}".`);
  }
  const descending = order === "descending";
  if (sortBy === undefined || sortBy.trim() === "") return { key: undefined, descending: false, nullable: false };
  const r = resolveAttributePath(sortBy, rt, "invalidValue");
  const cannot = (why: string) => new ScimError(400, "invalidValue", `Can't sort by "${sortBy}": ${why}.`);
  if (r.leaf.returned === "never") throw cannot("it is never returned");
  const leaf = r.leaf.type === "complex" ? r.leaf.subAttributes?.find((a) => a.name === "value") : r.leaf;
  if (!leaf) throw cannot("it is a complex attribute; sort by one of its sub-attributes");
  const path: AttrPath = leaf === r.leaf ? r.path : { ...r.path, sub: leaf.name };
  const key = `${path.uri === target.schema ? "" : `${path.uri}:`}${path.attr}${path.sub === undefined ? "" : `.${path.sub}`}`;
  const column = target.columns[key];
  if (column) {
    const first = column.columns[0] ?? target.seq;
    const expr = column.norm || !comparesFolded(leaf) ? sql`${first}` : sql`lower(${first})`;
    return { key: expr, descending, nullable: column.notNull !== true };
  }
  if ((path.uri === target.schema && target.relations[path.attr]) || path.attr === "meta") throw cannot("sorting on it is not supported");
  // The value a filter compares (folded if caseExact:false), taken from the primary (else first) element if multi-valued.
  let operand: SQL | undefined;
  if (r.attr.multiValued && path.sub !== undefined) {
    operand = primaryElementValue(target, path, leaf);
  } else {
    const base = `$${path.uri === target.schema ? "" : label(path.uri)}${label(path.attr)}`;
    operand = jsonOperand(rootDoc(target), path.sub === undefined ? base : `${base}${label(path.sub)}`, leaf).exprs[0];
  }
  return { key: operand ?? sql`NULL`, descending, nullable: true };
}

/** ORDER BY terms for sortBy / sortOrder over the target's own rows. */
export const sortToSql = (sortBy: string | undefined, sortOrder: string | undefined, rt: ResourceTypeDef, target: SqlTarget): SQL => {
  const spec = sortOf(sortBy, sortOrder, rt, target);
  return orderSql(spec, spec.key, sql`${target.seq}`);
};

/** The sort value of a multi-valued attribute: its primary (else first) element's sub-attribute. */
function primaryElementValue(target: SqlTarget, path: AttrPath, leaf: AttributeDef): SQL {
  const sub = path.sub ?? "value";
  const base = `$${path.uri === target.schema ? "" : label(path.uri)}${label(path.attr)}`;
  const s = sql`${sql.identifier("s1")}`;
  const value = jsonOperand(elementDoc(target, base, s), `$${label(sub)}`, leaf).exprs[0] ?? sql`NULL`;
  return sql`(SELECT ${value} FROM json_each(${target.data}, ${pathLit(base)}) AS ${s} WHERE ${s}.type = 'object' ORDER BY COALESCE(json_extract(${s}.value, '$."primary"'), 0) DESC, ${s}.key LIMIT 1)`;
}

/**
 * The WHERE and the sort of a list or .search request: the filter parsed against the resource
 * type (400 invalidFilter if it is not valid) and translated to bound SQL (undefined without a
 * filter), and the sort order.
 */
export function listClauses(
  params: { filter: string | undefined; sortBy: string | undefined; sortOrder: string | undefined },
  rt: ResourceTypeDef,
  target: SqlTarget,
): { where: SQL | undefined; sort: SortSpec; atMostOne: boolean } {
  const filter = params.filter !== undefined ? parseFilter(params.filter, rt) : undefined;
  return {
    where: filter ? filterToSql(filter, target) : undefined,
    sort: sortOf(params.sortBy, params.sortOrder, rt, target),
    atMostOne: filter !== undefined && matchesAtMostOne(filter, target),
  };
}

/** `userName eq "…"`, `id eq "…"`: the lookups IdPs make before every create. */
const matchesAtMostOne = (f: Filter, target: SqlTarget): boolean =>
  f.kind === "compare" &&
  f.op === "eq" &&
  f.path.uri === target.schema &&
  f.path.sub === undefined &&
  target.columns[f.path.attr]?.unique === true;
