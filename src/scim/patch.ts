/**
 * SCIM PATCH (RFC 7644 §3.5.2) over a stored resource, pure and atomic: the input is cloned,
 * every operation is applied to the clone in order, and any error throws before anything is
 * returned, so a failed PATCH changes nothing (CONFORMANCE 73).
 *
 * Besides the RFC forms it accepts the shapes real IdPs send (CONFORMANCE §4 quirks 1-5, 12-13):
 * Entra's capitalised `op`, string booleans, Okta's path-less replace, Entra's dotted and URN keys in
 * a path-less value, manager as a bare string, and the old Entra members remove with a value list.
 */

import { ScimError } from "./errors";
import type { PatchPath } from "./filter/ast";
import { comparisonsOf, parsePath } from "./filter/parser";
import { LIMITS } from "./limits";
import { type MemberOp, memberOperation, type PatchVerb } from "./patch-members";
import { applyChange } from "./patch-target";
import {
  addQuirk,
  assertRequired,
  coerceValue,
  isPlainObject,
  isUnassigned,
  normalizeResource,
  type StoredResource,
  splitUrnKey,
} from "./resource";
import { findAttribute, findExtension, type ResourceTypeDef, type SchemaDef } from "./schemas";

export type { MemberOp } from "./patch-members";

export interface PatchResult {
  data: StoredResource;
  /** Set when an operation carried `password` (Okta Sync Password); never part of `data`. */
  password?: string;
  quirks: string[];
  /** Group membership changes, in order; never applied to `data` (membership lives in rows). */
  memberOps: MemberOp[];
}

export interface PatchContext {
  /** The resource's id: a path-less value may echo it (Okta group push, CONFORMANCE 88). */
  id: string;
}

/**
 * The work one PATCH may ask for, so it grows with the request, never faster: at most
 * LIMITS.patchMaxOperations operations, and value filters (`emails[type eq "work"]`) holding at
 * most this many attribute comparisons in all, each tried on at most 100 values of an attribute
 * (src/scim/resource.ts). Before the limits one PATCH of 13,164 filtered operations on a user with
 * 100 emails burned over a second of CPU.
 */
const MAX_PATCH_FILTER_COMPARISONS = 1000;

interface State {
  /** Comparisons the operations' value filters have held so far. */
  comparisons: number;
  data: StoredResource;
  rt: ResourceTypeDef;
  ctx: PatchContext;
  quirks: string[];
  memberOps: MemberOp[];
  password?: string;
}

const VERBS: readonly PatchVerb[] = ["add", "replace", "remove"];
const isVerb = (s: string): s is PatchVerb => (VERBS as readonly string[]).includes(s);
const short = (s: string): string => (s.length > 60 ? `${s.slice(0, 60)}...` : s);

/** Member names are case-insensitive too (`Operations`, `Op`, `Path`, `Value`): exact spelling first. */
function field(obj: Record<string, unknown>, name: string): { present: boolean; value: unknown } {
  const lower = name.toLowerCase();
  const key = Object.hasOwn(obj, name) ? name : Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? { present: false, value: undefined } : { present: true, value: obj[key] };
}

export function applyPatch(resource: StoredResource, body: unknown, rt: ResourceTypeDef, ctx: PatchContext): PatchResult {
  if (!isPlainObject(body)) {
    throw new ScimError(400, "invalidSyntax", "The PATCH body must be a JSON object with an Operations array (RFC 7644 §3.5.2).");
  }
  const operations = field(body, "Operations");
  if (!Array.isArray(operations.value)) {
    throw new ScimError(400, "invalidSyntax", 'The PATCH body needs an "Operations" array (RFC 7644 §3.5.2).');
  }
  if (operations.value.length > LIMITS.patchMaxOperations) {
    throw new ScimError(
      400,
      "invalidValue",
      `The PATCH has ${operations.value.length} operations; at most ${LIMITS.patchMaxOperations} are allowed in one request: send the rest in another.`,
    );
  }
  const state: State = { comparisons: 0, data: structuredClone(resource), rt, ctx, quirks: [], memberOps: [] };
  // Operations: [] is a no-op (the Entra validator sends it; scimmy#59).
  operations.value.forEach((raw, index) => applyOperation(state, raw, index));

  // RFC 7644 §3.5.2: unassigning a required attribute is a mutability error; then the result must
  // still be a valid resource by the POST rules (at most one primary, limits, types).
  assertRequired(state.data, rt, "mutability");
  const { data } = normalizeResource(state.data, rt);
  const result: PatchResult = { data, quirks: state.quirks, memberOps: state.memberOps };
  if (state.password !== undefined) result.password = state.password;
  return result;
}

function applyOperation(state: State, raw: unknown, index: number): void {
  if (!isPlainObject(raw)) throw new ScimError(400, "invalidSyntax", `Operations[${index}] must be an object.`);
  const opField = field(raw, "op");
  if (typeof opField.value !== "string") {
    throw new ScimError(400, "invalidSyntax", `Operations[${index}] needs an "op" of add, replace or remove.`);
  }
  const verb = opField.value.toLowerCase();
  if (!isVerb(verb)) {
    throw new ScimError(400, "invalidSyntax", `Operations[${index}].op "${short(opField.value)}" is not add, replace or remove.`);
  }
  // Entra sends "Add"/"Replace"/"Remove" (CONFORMANCE §4 quirk 1).
  if (verb !== opField.value) addQuirk(state.quirks, `op sent capitalised as "${opField.value}"`);

  const pathField = field(raw, "path");
  const valueField = field(raw, "value");
  let path: string | undefined;
  if (pathField.value !== undefined && pathField.value !== null) {
    if (typeof pathField.value !== "string") throw new ScimError(400, "invalidPath", `Operations[${index}].path must be a string.`);
    if (pathField.value.trim() !== "") path = pathField.value;
    else addQuirk(state.quirks, "empty path treated as path-less");
  }

  if (path === undefined) {
    if (verb === "remove") throw new ScimError(400, "noTarget", "A remove operation needs a path (RFC 7644 §3.5.2.2).");
    if (!isPlainObject(valueField.value)) {
      throw new ScimError(
        400,
        "invalidSyntax",
        `Operations[${index}]: a ${verb} without a path needs an object of attributes as its value.`,
      );
    }
    // Okta deactivate and group push (CONFORMANCE 56, 88): {"op":"replace","value":{"active":false}}.
    addQuirk(state.quirks, `path-less ${verb}`);
    applyPathless(state, verb, valueField.value);
    return;
  }
  if (verb !== "remove" && !valueField.present) {
    throw new ScimError(400, "invalidSyntax", `Operations[${index}] (${verb} '${short(path)}') needs a value.`);
  }
  const extension = findExtension(state.rt, path);
  if (extension) {
    // The path is a whole extension: its attributes are applied one by one.
    if (verb === "remove" || isUnassigned(valueField.value)) delete state.data[extension.id];
    else if (isPlainObject(valueField.value)) applyExtensionObject(state, verb, extension, valueField.value);
    else throw new ScimError(400, "invalidValue", `The value for '${extension.id}' must be an object of its attributes.`);
    return;
  }
  applyTarget(state, verb, targetPath(state, path), valueField.value, valueField.present);
}

/**
 * A whole extension object, as POST and PUT take it: each attribute is applied as its own path;
 * the object's own "schemas" (scim2-tester sends it) says nothing to apply. A name the extension
 * does not define is a bad value of a good path: 400 invalidValue.
 */
function applyExtensionObject(state: State, verb: PatchVerb, extension: SchemaDef, value: Record<string, unknown>): void {
  for (const key of Object.keys(value)) {
    if (key.toLowerCase() === "schemas") continue;
    if (!findAttribute(extension.attributes, key)) {
      const known = extension.attributes.map((a) => a.name).join(", ");
      throw new ScimError(400, "invalidValue", `'${short(key)}' is not an attribute of ${extension.id} (it has ${known}).`);
    }
    applyTarget(state, verb, targetPath(state, `${extension.id}:${key}`), value[key], true);
  }
}

/** RFC 7644 §3.5.2.1/3: without a path the value holds attributes of the resource; each key is read as a path. */
function applyPathless(state: State, verb: PatchVerb, value: Record<string, unknown>): void {
  for (const key of Object.keys(value)) {
    const item = value[key];
    const lower = key.toLowerCase();
    if (lower === "schemas" || lower === "meta") continue;
    if (lower === "id") {
      // Okta sends the group's own id with every rename and membership push (CONFORMANCE 71, 88).
      if (item === state.ctx.id) {
        addQuirk(state.quirks, "path-less value repeated the resource id");
        continue;
      }
      throw new ScimError(400, "mutability", "Attribute 'id' is readOnly; a path-less value may only repeat the resource's own id.");
    }
    const extension = findExtension(state.rt, key);
    if (extension) {
      if (isUnassigned(item)) delete state.data[extension.id];
      else if (isPlainObject(item)) applyExtensionObject(state, verb, extension, item);
      else throw new ScimError(400, "invalidValue", `The value for '${extension.id}' must be an object of its attributes.`);
      continue;
    }
    if (lower.startsWith("urn:") && !splitUrnKey(state.rt, key)) {
      // Vendor extensions the IdP maps but this service does not define (SPEC §4).
      addQuirk(state.quirks, `ignored unknown schema '${short(key)}' in a path-less value`);
      continue;
    }
    if (key.includes(".") || lower.startsWith("urn:")) {
      // Entra flag form (CONFORMANCE 61): {"name.givenName": ..., "urn:...:User:employeeNumber": ...}.
      addQuirk(state.quirks, "path-less value keys read as paths (dotted or URN-prefixed)");
    }
    applyTarget(state, verb, targetPath(state, key), item, true);
  }
}

/** A path, parsed, its value filter counted against MAX_PATCH_FILTER_COMPARISONS. */
function targetPath(state: State, text: string): PatchPath {
  const path = parsePath(text, state.rt);
  if (path.filter) {
    state.comparisons += comparisonsOf(path.filter);
    if (state.comparisons > MAX_PATCH_FILTER_COMPARISONS) {
      throw new ScimError(
        400,
        "invalidPath",
        `The PATCH's value filters hold more than ${MAX_PATCH_FILTER_COMPARISONS} attribute comparisons in all: send fewer filtered operations per request.`,
      );
    }
  }
  return path;
}

function applyTarget(state: State, verb: PatchVerb, target: PatchPath, value: unknown, hasValue: boolean): void {
  const { rt } = state;
  const label = `${target.path.attr}${target.filter ? "[...]" : ""}${target.path.sub ? `.${target.path.sub}` : ""}${
    target.subAfterFilter ? `.${target.subAfterFilter}` : ""
  }`;
  if (target.path.attr === "meta") throw new ScimError(400, "mutability", `Attribute '${label}' is readOnly and cannot be changed.`);
  const schema = target.path.uri === rt.schema.id ? rt.schema : findExtension(rt, target.path.uri);
  const def = schema ? findAttribute(schema.attributes, target.path.attr) : undefined;
  if (!schema || !def) throw new ScimError(400, "invalidPath", `Attribute '${label}' is not defined for ${rt.name}.`);
  // RFC 7644 §3.5.2: readOnly attributes (id, groups, roles) cannot be changed; groups change through the Group.
  if (def.mutability === "readOnly") throw new ScimError(400, "mutability", `Attribute '${def.name}' is readOnly and cannot be changed.`);

  if (def.mutability === "writeOnly") {
    // Okta Sync Password (CONFORMANCE 57): handed to the caller to hash; never stored in data.
    if (verb === "remove" || target.filter || target.path.sub) {
      throw new ScimError(400, "mutability", `Attribute '${def.name}' is writeOnly: it can only be set.`);
    }
    const coerced = coerceValue(def, value, state.quirks, def.name);
    if (typeof coerced === "string") state.password = coerced;
    return;
  }
  if (rt.id === "User" && def.name === "active" && (verb === "remove" || isUnassigned(value))) {
    // RFC 7644 §3.5.2.2 would leave `active` unassigned, but the site needs a yes or no to let
    // someone sign in, and guessing "no" would lock people out on an IdP's mapping slip.
    throw new ScimError(
      400,
      "invalidValue",
      `'active' can't be removed or unassigned: send {"op":"replace","path":"active","value":false} to deactivate the user, or true to reactivate.`,
    );
  }
  if (rt.id === "Group" && def.name === "members") {
    const memberOp = memberOperation(verb, target, value, hasValue, def, state.quirks);
    if (memberOp) state.memberOps.push(memberOp);
    return;
  }

  const isCore = schema === rt.schema;
  const existing = state.data[schema.id];
  const container: StoredResource = isCore ? state.data : isPlainObject(existing) ? existing : {};
  applyChange({ op: verb, def, container, target, value, hasValue, label, quirks: state.quirks });
  if (!isCore) {
    if (Object.keys(container).length > 0) state.data[schema.id] = container;
    else delete state.data[schema.id];
  }
}
