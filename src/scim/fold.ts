import { type AttributeDef, findAttribute, findExtension, type ResourceTypeDef } from "./schemas";
import { foldCase } from "./text";

/** Attribute types whose values filters compare as text. */
const TEXT_TYPES: ReadonlySet<string> = new Set(["string", "reference", "binary"]);

/** Compared in any letter case (RFC 7643 §2.2): through foldCase on both sides. */
export const comparesFolded = (def: AttributeDef): boolean => TEXT_TYPES.has(def.type) && !def.caseExact;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function foldValue(value: unknown, def: AttributeDef): unknown {
  if (def.multiValued) {
    if (!Array.isArray(value)) return undefined;
    // Same length and order as the stored array: a filter over elements reads element k of both.
    return value.map((el) => foldOne(el, def) ?? null);
  }
  return foldOne(value, def);
}

function foldOne(value: unknown, def: AttributeDef): unknown {
  if (def.type === "complex") return isRecord(value) ? foldObject(value, def.subAttributes ?? []) : undefined;
  return comparesFolded(def) && typeof value === "string" ? foldCase(value) : undefined;
}

function foldObject(node: Record<string, unknown>, attrs: readonly AttributeDef[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const def = findAttribute(attrs, key);
    if (!def) continue;
    const folded = foldValue(value, def);
    if (folded !== undefined) out[key] = folded;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The case-folded copy of a resource's stored data (the `data_fold` column): every
 * caseExact:false string under the key path it has in `data`, folded with foldCase; nothing
 * else, except that multi-valued attributes keep their length so element k of one is element
 * k of the other. Filters and sortBy compare caseExact:false values through it in SQL, where
 * lower() folds ASCII only (`name.givenName eq "émile"` must find "Émile").
 */
export function foldedDocument(data: Record<string, unknown>, rt: ResourceTypeDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const ext = findExtension(rt, key);
    const def = ext ? undefined : findAttribute(rt.schema.attributes, key);
    const folded = ext ? (isRecord(value) ? foldObject(value, ext.attributes) : undefined) : def ? foldValue(value, def) : undefined;
    if (folded !== undefined) out[key] = folded;
  }
  return out;
}
