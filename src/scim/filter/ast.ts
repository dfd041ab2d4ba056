/**
 * The filter and attribute-path AST (RFC 7644 §3.4.2.2, §3.5.2, §3.10).
 * Paths are resolved against the schema by the parser: names come out canonical
 * (as spelled in schemas.ts), so later stages never compare case again.
 */

export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";

export type FilterValue = string | number | boolean | null;

/**
 * A resolved attribute path. `uri` is the canonical schema URN the attribute belongs to
 * (core or extension). Inside a value filter (`emails[type eq "work"]`) paths are relative
 * to the element: `attr` is then the sub-attribute name and `uri` is that of the parent.
 * `attr === "meta"` addresses the common meta attribute (sub: created, lastModified, ...).
 */
export interface AttrPath {
  uri: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { kind: "compare"; path: AttrPath; op: CompareOp; value: FilterValue }
  | { kind: "present"; path: AttrPath }
  | { kind: "and"; left: Filter; right: Filter }
  | { kind: "or"; left: Filter; right: Filter }
  | { kind: "not"; filter: Filter }
  /** `emails[type eq "work"]`: some element of a multi-valued (or complex) attribute matches. */
  | { kind: "valuePath"; path: AttrPath; filter: Filter };

/** A PATCH target: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each optionally URN-prefixed. */
export interface PatchPath {
  path: AttrPath;
  filter?: Filter;
  /** Sub-attribute after a value filter: `emails[type eq "work"].value` → "value". */
  subAfterFilter?: string;
}
