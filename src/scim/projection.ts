import type { AttrPath } from "./filter/ast";
import { parseAttributeList } from "./filter/parser";
import { findExtension, type ResourceTypeDef } from "./schemas";

type Json = Record<string, unknown>;

export interface Projection {
  /** `attributes` was given: only these (none may be known) and the always-returned ones. */
  restricted: boolean;
  attributes: AttrPath[];
  excluded: AttrPath[];
  /** Extensions named whole (`urn:…:enterprise:2.0:User`) in attributes / excludedAttributes. */
  attributeExtensions: string[];
  excludedExtensions: string[];
}

/** id and schemas are returned always (RFC 7643 §7); nothing can exclude them. */
const ALWAYS = new Set(["id", "schemas"]);

function containerKey(rt: ResourceTypeDef, p: AttrPath): string | undefined {
  return p.uri.toLowerCase() === rt.schema.id.toLowerCase() ? undefined : p.uri;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pick(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) {
    const items = value
      .filter(isObject)
      .filter((el) => el[sub] !== undefined)
      .map((el) => ({ [sub]: el[sub] }));
    return items.length ? items : undefined;
  }
  if (isObject(value) && value[sub] !== undefined) return { [sub]: value[sub] };
  return undefined;
}

/** Merges `value` at key into target, combining sub-attribute picks of the same attribute. */
function merge(target: Json, key: string, value: unknown): void {
  const existing = target[key];
  if (isObject(existing) && isObject(value)) {
    Object.assign(existing, value);
  } else if (Array.isArray(existing) && Array.isArray(value)) {
    existing.forEach((el, i) => {
      if (isObject(el) && isObject(value[i])) Object.assign(el, value[i]);
    });
  } else {
    target[key] = value;
  }
}

/** Whether the response needs attribute `attr` (so callers can skip loading, e.g. members). */
export function wantsAttribute(projection: Projection, rt: ResourceTypeDef, attr: string): boolean {
  const core = (p: AttrPath) => containerKey(rt, p) === undefined && p.attr === attr;
  if (projection.restricted) return projection.attributes.some(core);
  return !projection.excluded.some((p) => core(p) && p.sub === undefined);
}

/**
 * RFC 7644 §3.4.2.5: `attributes` keeps only the named ones (plus returned:always; names this
 * resource type doesn't have select nothing, so only unknown names leave id and schemas);
 * `excludedAttributes` drops them. `schemas` then lists only the schemas still present.
 */
export function project(resource: Json, rt: ResourceTypeDef, projection: Projection): Json {
  if (!projection.restricted && !projection.excluded.length && !projection.excludedExtensions.length) return resource;
  const out = projection.restricted
    ? keep(resource, rt, projection.attributes, projection.attributeExtensions)
    : drop(resource, rt, projection.excluded, projection.excludedExtensions);
  return withPresentSchemas(out, rt);
}

/** The core schema, and each extension only while its object is in the answer. */
function withPresentSchemas(out: Json, rt: ResourceTypeDef): Json {
  if (Array.isArray(out.schemas)) out.schemas = out.schemas.filter((s) => s === rt.schema.id || isObject(out[String(s)]));
  return out;
}

function keep(resource: Json, rt: ResourceTypeDef, attributes: AttrPath[], extensions: string[]): Json {
  const out: Json = {};
  for (const key of ALWAYS) if (resource[key] !== undefined) out[key] = structuredClone(resource[key]);
  for (const ext of extensions) if (isObject(resource[ext])) out[ext] = structuredClone(resource[ext]);
  for (const p of attributes) {
    const ext = containerKey(rt, p);
    const source = ext === undefined ? resource : resource[ext];
    if (!isObject(source)) continue;
    const value = p.sub === undefined ? source[p.attr] : pick(source[p.attr], p.sub);
    if (value === undefined) continue;
    const picked = structuredClone(value);
    if (ext === undefined) merge(out, p.attr, picked);
    else {
      const container = isObject(out[ext]) ? (out[ext] as Json) : {};
      merge(container, p.attr, picked);
      out[ext] = container;
    }
  }
  return out;
}

function drop(resource: Json, rt: ResourceTypeDef, excluded: AttrPath[], extensions: string[]): Json {
  const out = structuredClone(resource);
  for (const ext of extensions) delete out[ext];
  for (const p of excluded) {
    const ext = containerKey(rt, p);
    if (ext === undefined && ALWAYS.has(p.attr)) continue;
    const source = ext === undefined ? out : out[ext];
    if (!isObject(source)) continue;
    if (p.sub === undefined) delete source[p.attr];
    else {
      const value = source[p.attr];
      const elements = Array.isArray(value) ? value.filter(isObject) : isObject(value) ? [value] : [];
      for (const el of elements) delete el[p.sub];
    }
    if (ext !== undefined && isObject(source) && Object.keys(source).length === 0) delete out[ext];
  }
  return out;
}

/** The `attributes` / `excludedAttributes` parameters of a request (RFC 7644 §3.4.2.5), parsed. */
export function projectionOf(rt: ResourceTypeDef, attributes: string | undefined, excluded: string | undefined): Projection {
  const restricted = attributes !== undefined && attributes.trim() !== "";
  return {
    restricted,
    attributes: restricted ? parseAttributeList(attributes, rt) : [],
    excluded: excluded ? parseAttributeList(excluded, rt) : [],
    attributeExtensions: extensionsNamed(attributes, rt),
    excludedExtensions: extensionsNamed(excluded, rt),
  };
}

/** The extensions a list names whole, by their canonical URN. */
function extensionsNamed(list: string | undefined, rt: ResourceTypeDef): string[] {
  return (list ?? "").split(",").flatMap((name) => findExtension(rt, name.trim())?.id ?? []);
}
