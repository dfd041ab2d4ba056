/**
 * Applies one resolved PATCH operation to one attribute of a (cloned) resource, following
 * RFC 7644 §3.5.2.1-3. Values are validated with the normaliser's `coerceValue`, so what a
 * PATCH stores is exactly what a POST of the same value would store.
 */
import { ScimError } from "./errors";
import type { Filter, PatchPath } from "./filter/ast";
import { matchesFilter } from "./filter/evaluate";
import type { PatchVerb } from "./patch-members";
import { addQuirk, coerceElement, coerceValue, isPlainObject, isUnassigned, type StoredResource } from "./resource";
import { type AttributeDef, findAttribute } from "./schemas";

export interface TargetChange {
  op: PatchVerb;
  /** The attribute's definition and the object holding it (the resource, or its extension object). */
  def: AttributeDef;
  container: StoredResource;
  target: PatchPath;
  value: unknown;
  hasValue: boolean;
  /** Canonical name for messages and quirks, e.g. "emails[...].value". */
  label: string;
  quirks: string[];
}

type Element = Record<string, unknown>;

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

const elementsOf = (container: StoredResource, name: string): Element[] => {
  const current = container[name];
  return Array.isArray(current) ? current.filter(isPlainObject) : [];
};

function store(container: StoredResource, name: string, value: unknown): void {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) delete container[name];
  else container[name] = value;
}

/**
 * RFC 7644 §3.5.2: setting one value's primary to true SHALL set primary to false on the others.
 * Two new primaries at once are left for the final validation to reject (RFC 7643 §2.4).
 */
function demoteOtherPrimaries(all: Element[], written: Element[]): void {
  const primaries = written.filter((el) => el.primary === true);
  if (primaries.length !== 1) return;
  for (const el of all) if (el !== primaries[0] && el.primary === true) el.primary = false;
}

function requireSub(def: AttributeDef, name: string, label: string): AttributeDef {
  const sub = findAttribute(def.subAttributes, name);
  if (!sub) throw new ScimError(400, "invalidPath", `Attribute '${label}' is not defined in the schema.`);
  if (sub.mutability === "readOnly") throw new ScimError(400, "mutability", `Attribute '${label}' is readOnly and cannot be changed.`);
  return sub;
}

/** The element a filter describes, when it is only `eq` tests joined by `and`: `type eq "work"` → {type:"work"}. */
function filterTemplate(def: AttributeDef, filter: Filter): Element | undefined {
  if (filter.kind === "compare" && filter.op === "eq" && !filter.path.sub) {
    const sub = findAttribute(def.subAttributes, filter.path.attr);
    return sub ? { [sub.name]: filter.value } : undefined;
  }
  if (filter.kind === "and") {
    const left = filterTemplate(def, filter.left);
    const right = filterTemplate(def, filter.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  return undefined;
}

export function applyChange(change: TargetChange): void {
  const { def, target } = change;
  if (target.filter) {
    if (!def.multiValued) {
      throw new ScimError(400, "invalidPath", `A value filter needs a multi-valued attribute; '${def.name}' is single-valued.`);
    }
    applyFiltered(change, target.filter);
  } else if (target.path.sub) {
    const sub = requireSub(def, target.path.sub, change.label);
    if (def.multiValued) applySubToEveryElement(change, sub);
    else applyComplexSub(change, sub);
  } else {
    applyWhole(change);
  }
}

function applyWhole({ op, def, container, value, hasValue, label, quirks }: TargetChange): void {
  if (op === "remove") {
    // A value list on remove selects which values to drop (generalises the old Entra members form).
    if (def.multiValued && hasValue && !isUnassigned(value)) {
      const listed = coerceValue(def, value, quirks, label);
      const drop = Array.isArray(listed) ? listed.filter(isPlainObject) : [];
      const keep = elementsOf(container, def.name).filter((el) => !drop.some((d) => Object.keys(d).every((k) => deepEqual(el[k], d[k]))));
      store(container, def.name, keep);
      return;
    }
    delete container[def.name];
    return;
  }
  // add of [] adds nothing; otherwise null/"" unassign (CONFORMANCE 66; Entra picks Add or Replace at random).
  if (op === "add" && Array.isArray(value) && value.length === 0) return;
  const coerced = coerceValue(def, value, quirks, label);
  if (def.type === "complex" && !def.multiValued && isPlainObject(value) && !findAttribute(def.subAttributes, "value")) {
    mergeSubAttributes(def, container, value, coerced);
    return;
  }
  if (coerced === undefined) {
    delete container[def.name];
    return;
  }
  if (def.multiValued) {
    const incoming = Array.isArray(coerced) ? coerced.filter(isPlainObject) : [];
    if (op === "replace") {
      store(container, def.name, incoming);
      return;
    }
    // RFC 7644 §3.5.2.1: add appends; a value already present is not duplicated.
    const all = elementsOf(container, def.name);
    const written = incoming.map((el) => {
      const existing = all.find((e) => deepEqual(e, el));
      if (existing) return existing;
      all.push(el);
      return el;
    });
    demoteOtherPrimaries(all, written);
    store(container, def.name, all);
    return;
  }
  // A reference-like complex (manager: value/$ref/displayName) is replaced whole: its parts
  // describe one target, so keeping an old $ref next to a new value would point elsewhere.
  container[def.name] = coerced;
}

/**
 * RFC 7644 §3.5.2.1/3 on a single complex attribute (name): sub-attributes given replace, those
 * given as null or "" are unassigned, and those not given are left unchanged. So an object that
 * sets nothing (`{}`, or only unknown or readOnly names) changes nothing, rather than removing
 * the whole attribute as an unassigned value would.
 */
function mergeSubAttributes(def: AttributeDef, container: StoredResource, value: Record<string, unknown>, coerced: unknown): void {
  const current = container[def.name];
  const merged: Element = { ...(isPlainObject(current) ? current : {}), ...(isPlainObject(coerced) ? coerced : {}) };
  for (const key of Object.keys(value)) {
    const sub = findAttribute(def.subAttributes, key);
    if (sub && sub.mutability !== "readOnly" && isUnassigned(value[key])) delete merged[sub.name];
  }
  store(container, def.name, Object.keys(merged).length > 0 ? merged : undefined);
}

function applyComplexSub(change: TargetChange, sub: AttributeDef): void {
  const { op, def, container, value, label, quirks } = change;
  const current = container[def.name];
  const obj: Element = isPlainObject(current) ? current : {};
  const coerced = op === "remove" ? undefined : coerceValue(sub, value, quirks, label);
  if (coerced === undefined) delete obj[sub.name];
  else obj[sub.name] = coerced;
  store(container, def.name, Object.keys(obj).length > 0 ? obj : undefined);
}

/** `emails.value` without a filter addresses every value; with none present, one is created. */
function applySubToEveryElement(change: TargetChange, sub: AttributeDef): void {
  const { op, def, container, value, label, quirks } = change;
  const all = elementsOf(container, def.name);
  const coerced = op === "remove" ? undefined : coerceValue(sub, value, quirks, label);
  if (coerced !== undefined && all.length === 0) all.push({});
  for (const el of all) {
    if (coerced === undefined) delete el[sub.name];
    else el[sub.name] = coerced;
  }
  store(
    container,
    def.name,
    all.filter((el) => Object.keys(el).length > 0),
  );
}

function applyFiltered(change: TargetChange, filter: Filter): void {
  const { op, def, container, value, label, quirks, target } = change;
  const sub = target.subAfterFilter ? requireSub(def, target.subAfterFilter, label) : undefined;
  let all = elementsOf(container, def.name);
  // Filter paths are relative to the element (RFC 7644 §3.5.2 valuePath).
  const elementPath = { uri: target.path.uri, attr: def.name };
  const matches = all.filter((el) => matchesFilter(filter, el, elementPath));
  const unassign = op === "remove" || isUnassigned(value);

  if (unassign) {
    // RFC 7644 §3.5.2.2: a remove whose filter matches nothing fails with noTarget.
    if (op === "remove" && matches.length === 0) {
      throw new ScimError(400, "noTarget", `No value of '${def.name}' matches the filter in '${label}'.`);
    }
    if (sub) for (const el of matches) delete el[sub.name];
    else all = all.filter((el) => !matches.includes(el));
    store(
      container,
      def.name,
      all.filter((el) => Object.keys(el).length > 0),
    );
    return;
  }

  let written: Element[];
  if (matches.length === 0) {
    // CONFORMANCE 64 decision (SCIM-SDK doNotFailOnNoTarget): Entra replaces emails[type eq "work"].value
    // on users with no work email; create the value the filter describes instead of answering noTarget.
    const template = filterTemplate(def, filter);
    if (!template) throw new ScimError(400, "noTarget", `No value of '${def.name}' matches the filter in '${label}'.`);
    let source: unknown = sub ? { ...template, [sub.name]: value } : value;
    if (!sub && isPlainObject(value)) source = { ...template, ...value };
    const created = coerceElement(def, source, quirks, label);
    if (!isPlainObject(created)) throw new ScimError(400, "invalidValue", `Attribute '${label}' needs an object value.`);
    addQuirk(quirks, `${op} on a filtered path matching nothing created a new '${def.name}' value`);
    all.push(created);
    written = [created];
  } else if (sub) {
    const coerced = coerceValue(sub, value, quirks, label);
    for (const el of matches) {
      if (coerced === undefined) delete el[sub.name];
      else el[sub.name] = coerced;
    }
    written = matches;
  } else {
    const coerced = coerceElement(def, value, quirks, label);
    if (!isPlainObject(coerced)) throw new ScimError(400, "invalidValue", `Attribute '${label}' needs an object value.`);
    // RFC 7644 §3.5.2.3: matching values are replaced; add merges into them (§3.5.2.1).
    written = matches.map((el) => {
      const next = op === "add" ? { ...el, ...coerced } : { ...coerced };
      all[all.indexOf(el)] = next;
      return next;
    });
  }
  demoteOtherPrimaries(all, written);
  store(container, def.name, all);
}
