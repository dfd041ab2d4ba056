/**
 * Input normalisation for POST/PUT bodies (and, through `coerceValue`, PATCH values).
 * Turns whatever an IdP sends into the one stored shape: canonical attribute names from
 * schemas.ts, core attributes at the top level, extension attributes under their URN key,
 * unassigned values (RFC 7643 §2.5: null, "", []) omitted, values kept exactly as sent.
 *
 * Only names found in the schema are ever written to an output object, so keys such as
 * `__proto__` or `constructor` in the input can never reach a prototype.
 */
import { ScimError } from "./errors";
import { type AttributeDef, findAttribute, findExtension, GROUP_SCHEMA, type ResourceTypeDef, type SchemaDef } from "./schemas";

/** Only schema attributes, canonical names; extension attributes under their URN key. */
export type StoredResource = Record<string, unknown>;

export interface NormalizeResult {
  data: StoredResource;
  /** The writeOnly `password` (Okta Sync Password); never part of `data`. */
  password?: string;
  /** IdP shapes tolerated, for the provisioning log. */
  quirks: string[];
}

const MAX_STRING_LENGTH = 8192;
/** Per multi-valued attribute (emails, phoneNumbers, ...); group members are bounded by body size instead. */
const MAX_MULTI_VALUES = 100;
const MAX_QUIRKS = 50;

/** The Group `members` definition: members are normalised to [{value, type?}] and not capped. */
const GROUP_MEMBERS = findAttribute(GROUP_SCHEMA.attributes, "members");

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Records a tolerated IdP quirk once; capped so a hostile body cannot grow the log without bound. */
export function addQuirk(quirks: string[], text: string): void {
  if (quirks.length < MAX_QUIRKS && !quirks.includes(text)) quirks.push(text);
}

/** RFC 7643 §2.5: null, "" and [] mean the attribute is unassigned. */
export function isUnassigned(value: unknown): boolean {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Quirk texts name the attribute without element indexes, so one quirk is logged per attribute. */
const quirkLabel = (label: string): string => label.replace(/\[\d+\]/g, "");

const shortKey = (key: string): string => (key.length > 80 ? `${key.slice(0, 80)}...` : key);

/**
 * Coerces a whole attribute value (multi-valued or not) to its stored form.
 * Returns undefined when the value means "unassigned". Throws 400 invalidValue naming `label`.
 */
export function coerceValue(def: AttributeDef, value: unknown, quirks: string[], label: string = def.name): unknown {
  if (isUnassigned(value)) return undefined;
  if (def.multiValued) return coerceMultiValued(def, value, quirks, label);
  if (Array.isArray(value)) {
    // Entra's tutorial sends manager as [{"$ref": ..., "value": ...}]: one complex value in an array.
    if (def.type === "complex" && value.length === 1) {
      addQuirk(quirks, `${quirkLabel(label)} sent as an array of one value`);
      return coerceElement(def, value[0], quirks, label);
    }
    throw new ScimError(400, "invalidValue", `Attribute '${label}' is single-valued; send one value, not an array.`);
  }
  return coerceElement(def, value, quirks, label);
}

/** Coerces one value of `def`'s type, ignoring `multiValued` (one element of emails, a filter target). */
export function coerceElement(def: AttributeDef, value: unknown, quirks: string[], label: string = def.name): unknown {
  if (value === null || value === undefined || value === "") return undefined;
  switch (def.type) {
    case "complex":
      return coerceComplex(def, value, quirks, label);
    case "boolean":
      return coerceBoolean(value, quirks, label);
    case "integer":
    case "decimal":
      if (typeof value !== "number" || !Number.isFinite(value) || (def.type === "integer" && !Number.isInteger(value))) {
        throw new ScimError(
          400,
          "invalidValue",
          `Attribute '${label}' must be ${def.type === "integer" ? "an integer" : "a number"}, not ${describe(value)}.`,
        );
      }
      return value;
    case "dateTime":
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
        throw new ScimError(400, "invalidValue", `Attribute '${label}' must be an RFC 3339 date-time string, not ${describe(value)}.`);
      }
      return value;
    case "string":
    case "reference":
    case "binary":
      if (typeof value !== "string")
        throw new ScimError(400, "invalidValue", `Attribute '${label}' must be a string, not ${describe(value)}.`);
      if (value.length > MAX_STRING_LENGTH) {
        throw new ScimError(400, "invalidValue", `Attribute '${label}' is longer than ${MAX_STRING_LENGTH} characters.`);
      }
      if (def.type === "reference") checkReference(def, value, label);
      return value;
  }
}

/** A photo may be inline, as a base64 data URL of a raster image (never SVG, which can carry script). */
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$/i;

function parseUrl(value: string, base?: string): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

/** Where a relative reference resolves, only to parse it: a real base is never needed to judge one. */
const RELATIVE_BASE = "https://base.invalid/scim/v2/Users/";

/**
 * A reference the site will show or follow must not run script in its pages: an external one
 * (profileUrl, photos) is an absolute http(s) URL (a photo may also be a data:image URL); a
 * reference to a User or Group may also be relative (Entra sends "../Users/{id}"), but never
 * another scheme (`javascript:`, `data:`, `vbscript:`...).
 *
 * The scheme is the one a browser reads: the value is parsed as a WHATWG URL, as every browser
 * parses an href, so "java\tscript:", "java\nscript:", "\u0001javascript:" and " JavaScript:" are
 * all `javascript:` here too (the parser drops tabs and newlines anywhere, and C0 controls and
 * spaces at either end, before it reads a scheme). A value that parses without a base has a
 * scheme; one that parses only against a base is relative; one that parses as neither is no URL.
 */
function checkReference(def: AttributeDef, value: string, label: string): void {
  const external = def.referenceTypes?.includes("external") ?? false;
  const photo = label.startsWith("photos");
  if (photo && DATA_IMAGE.test(value)) return;
  const absolute = parseUrl(value);
  if (absolute ? absolute.protocol === "http:" || absolute.protocol === "https:" : !external && parseUrl(value, RELATIVE_BASE)) return;
  const allowed = photo
    ? "an http(s) URL or a data:image/png, jpeg, gif or webp URL"
    : external
      ? "an absolute http(s) URL"
      : "an http(s) URL or a relative reference";
  throw new ScimError(400, "invalidValue", `Attribute '${label}' must be ${allowed}, not ${describe(value)}.`);
}

function coerceBoolean(value: unknown, quirks: string[], label: string): boolean {
  if (typeof value === "boolean") return value;
  // Entra without the aadOptscim062020 flag sends "True"/"False" (CONFORMANCE §4 quirk 2).
  if (typeof value === "string") {
    const lower = value.toLowerCase();
    if (lower === "true" || lower === "false") {
      addQuirk(quirks, `${quirkLabel(label)} sent as string "${value}"`);
      return lower === "true";
    }
  }
  throw new ScimError(400, "invalidValue", `Attribute '${label}' must be a boolean (true or false), not ${describe(value)}.`);
}

function coerceComplex(def: AttributeDef, value: unknown, quirks: string[], label: string): StoredResource | undefined {
  const subs = def.subAttributes ?? [];
  if (typeof value === "string" && !def.multiValued && findAttribute(subs, "value")) {
    // Enterprise manager sent as the manager's id (CONFORMANCE 43, SCIM-SDK#686): store {value}.
    addQuirk(quirks, `${quirkLabel(label)} sent as a bare string`);
    return coerceComplex(def, { value }, quirks, label);
  }
  if (!isPlainObject(value)) throw new ScimError(400, "invalidValue", `Attribute '${label}' must be an object, not ${describe(value)}.`);
  const isMember = def === GROUP_MEMBERS;
  const out: StoredResource = {};
  for (const key of Object.keys(value)) {
    const sub = findAttribute(subs, key);
    if (!sub) {
      addQuirk(quirks, `ignored unknown attribute '${quirkLabel(label)}.${shortKey(key)}'`);
      continue;
    }
    if (sub.name !== key) addQuirk(quirks, `attribute '${key}' matched case-insensitively as '${sub.name}'`);
    // readOnly sub-attributes (manager.displayName, members.display) are server-computed: ignored silently.
    // members.$ref is derived from the member id on output, so only value and type are stored;
    // it is still checked, so a script reference is refused wherever it is sent.
    if (isMember && sub.name === "$ref") coerceValue(sub, value[key], quirks, `${label}.$ref`);
    if (sub.mutability === "readOnly" || (isMember && sub.name === "$ref")) continue;
    if (Object.hasOwn(out, sub.name)) throw new ScimError(400, "invalidValue", `Attribute '${label}.${sub.name}' was sent more than once.`);
    const coerced = coerceValue(sub, value[key], quirks, `${label}.${sub.name}`);
    if (coerced !== undefined) out[sub.name] = coerced;
  }
  if (isMember && typeof out.value !== "string")
    throw new ScimError(400, "invalidValue", `Attribute '${label}.value' (the member id) is required.`);
  return Object.keys(out).length > 0 ? out : undefined;
}

function coerceMultiValued(def: AttributeDef, value: unknown, quirks: string[], label: string): unknown[] | undefined {
  let list: unknown[];
  if (Array.isArray(value)) {
    list = value;
  } else {
    addQuirk(quirks, `${quirkLabel(label)} sent as a single value instead of an array`);
    list = [value];
  }
  const isMembers = def === GROUP_MEMBERS;
  if (!isMembers && list.length > MAX_MULTI_VALUES) {
    throw new ScimError(400, "invalidValue", `Attribute '${label}' has ${list.length} values; at most ${MAX_MULTI_VALUES} are accepted.`);
  }
  const out: unknown[] = [];
  const memberIds = new Set<string>();
  list.forEach((element, i) => {
    const coerced = coerceElement(def, element, quirks, `${label}[${i}]`);
    if (coerced === undefined) return;
    if (isMembers && isPlainObject(coerced) && typeof coerced.value === "string") {
      // Membership is a set: a repeated id is one member.
      if (memberIds.has(coerced.value)) return;
      memberIds.add(coerced.value);
    }
    out.push(coerced);
  });
  assertSinglePrimary(out, label);
  return out.length > 0 ? out : undefined;
}

/** RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once. */
function assertSinglePrimary(values: readonly unknown[], label: string): void {
  const primaries = values.filter((v) => isPlainObject(v) && v.primary === true).length;
  if (primaries > 1) {
    throw new ScimError(
      400,
      "invalidValue",
      `Attribute '${label}' has ${primaries} values marked primary; at most one may be (RFC 7643 §2.4).`,
    );
  }
}

/** The schema (core or extension) whose URN prefixes `key` ("urn:...:enterprise:2.0:User:department"). */
export function splitUrnKey(rt: ResourceTypeDef, key: string): { schema: SchemaDef; rest: string } | undefined {
  const lower = key.toLowerCase();
  for (const schema of [rt.schema, ...rt.extensions]) {
    const prefix = `${schema.id.toLowerCase()}:`;
    if (lower.startsWith(prefix) && lower.length > prefix.length) return { schema, rest: key.slice(prefix.length) };
  }
  return undefined;
}

interface Target {
  container: StoredResource;
  seen: Set<string>;
}

/**
 * POST/PUT body → stored resource. Unknown attributes and schema URNs are ignored (SPEC §4; IdPs
 * send vendor URNs), readOnly ones silently (RFC 7644 §3.3), `schemas` is optional.
 */
export function normalizeResource(input: unknown, rt: ResourceTypeDef): NormalizeResult {
  if (!isPlainObject(input)) {
    throw new ScimError(400, "invalidSyntax", "The request body must be a JSON object holding a SCIM resource.");
  }
  const quirks: string[] = [];
  const data: StoredResource = {};
  const targets = new Map<string, Target>([[rt.schema.id, { container: data, seen: new Set() }]]);
  const targetFor = (schema: SchemaDef): Target => {
    let target = targets.get(schema.id);
    if (!target) {
      target = { container: {}, seen: new Set() };
      targets.set(schema.id, target);
    }
    return target;
  };
  let password: string | undefined;

  const setAttribute = (schema: SchemaDef, name: string, value: unknown, label: string): void => {
    const def = findAttribute(schema.attributes, name);
    if (!def) {
      addQuirk(quirks, `ignored unknown attribute '${shortKey(label)}'`);
      return;
    }
    if (def.name !== name) addQuirk(quirks, `attribute '${name}' matched case-insensitively as '${def.name}'`);
    if (def.mutability === "readOnly") return;
    const target = targetFor(schema);
    if (target.seen.has(def.name)) throw new ScimError(400, "invalidValue", `Attribute '${def.name}' was sent more than once.`);
    target.seen.add(def.name);
    const coerced = coerceValue(def, value, quirks, def.name);
    if (def.mutability === "writeOnly") {
      // Okta Sync Password: handed to the caller to hash, never stored in data or returned.
      if (def.name === "password" && typeof coerced === "string") password = coerced;
      return;
    }
    if (coerced !== undefined) target.container[def.name] = coerced;
    // An explicit empty membership (`members: []` or null) stays visible as [] so a PUT can tell
    // "clear the members" from "members not sent" (which keeps them). Members never stay in stored data.
    else if (def === GROUP_MEMBERS) target.container[def.name] = [];
  };

  for (const key of Object.keys(input)) {
    const value = input[key];
    const lower = key.toLowerCase();
    // `schemas` is rebuilt on output; `meta` is readOnly (RFC 7643 §3.1). Both ignored silently.
    if (lower === "schemas" || lower === "meta") continue;
    const extension = findExtension(rt, key);
    if (extension) {
      if (extension.id !== key) addQuirk(quirks, `extension URN '${key}' matched case-insensitively`);
      if (isUnassigned(value)) continue;
      if (!isPlainObject(value)) throw new ScimError(400, "invalidValue", `Extension '${extension.id}' must be an object of attributes.`);
      for (const sub of Object.keys(value)) setAttribute(extension, sub, value[sub], sub);
      continue;
    }
    if (lower.startsWith("urn:")) {
      // Fully qualified names (RFC 7644 §3.10), e.g. Entra's "urn:...:enterprise:2.0:User:department".
      const split = splitUrnKey(rt, key);
      if (!split) {
        addQuirk(quirks, `ignored unknown schema or attribute '${shortKey(key)}'`);
        continue;
      }
      setAttribute(split.schema, split.rest, value, key);
      continue;
    }
    setAttribute(rt.schema, key, value, key);
  }

  for (const extension of rt.extensions) {
    const target = targets.get(extension.id);
    if (target && Object.keys(target.container).length > 0) data[extension.id] = target.container;
  }
  assertRequired(data, rt, "invalidValue");
  const result: NormalizeResult = { data, quirks };
  if (password !== undefined) result.password = password;
  return result;
}

/** userName (Users) and displayName (Groups) are required and non-empty (RFC 7643 §4.1.1, §4.2). */
export function assertRequired(data: StoredResource, rt: ResourceTypeDef, scimType: "invalidValue" | "mutability"): void {
  for (const def of rt.schema.attributes) {
    if (def.required && def.mutability !== "readOnly" && data[def.name] === undefined) {
      throw new ScimError(400, scimType, `${def.name} is required and cannot be empty.`);
    }
  }
}
