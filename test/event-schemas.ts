/**
 * The published JSON Schemas (site-sdk/schemas/, written from src/events/catalog.ts) as the site
 * would use them: every stand-in site of the tests checks each body it receives against the schema
 * of its type with a JSON Schema validator (draft 2020-12), not with the catalog itself.
 */
import { type Schema, Validator } from "@cfworker/json-schema";
import groupCreated from "../site-sdk/schemas/group.created.json";
import groupDeleted from "../site-sdk/schemas/group.deleted.json";
import groupMembersAdded from "../site-sdk/schemas/group.members_added.json";
import groupMembersRemoved from "../site-sdk/schemas/group.members_removed.json";
import groupSynced from "../site-sdk/schemas/group.synced.json";
import groupUpdated from "../site-sdk/schemas/group.updated.json";
import userCreated from "../site-sdk/schemas/user.created.json";
import userDeactivated from "../site-sdk/schemas/user.deactivated.json";
import userDeleted from "../site-sdk/schemas/user.deleted.json";
import userReactivated from "../site-sdk/schemas/user.reactivated.json";
import userRoleChanged from "../site-sdk/schemas/user.role_changed.json";
import userSynced from "../site-sdk/schemas/user.synced.json";
import userUpdated from "../site-sdk/schemas/user.updated.json";
import type { EventType } from "../src/events/catalog";

// Every type needs its schema here: a type added to the catalog without one fails to compile.
const SCHEMAS = {
  "user.created": userCreated,
  "user.updated": userUpdated,
  "user.deactivated": userDeactivated,
  "user.reactivated": userReactivated,
  "user.role_changed": userRoleChanged,
  "user.deleted": userDeleted,
  "group.created": groupCreated,
  "group.updated": groupUpdated,
  "group.deleted": groupDeleted,
  "group.members_added": groupMembersAdded,
  "group.members_removed": groupMembersRemoved,
  "user.synced": userSynced,
  "group.synced": groupSynced,
} satisfies Record<EventType, object>;

const validators = new Map(Object.entries(SCHEMAS).map(([type, schema]) => [type, new Validator(schema as Schema, "2020-12", false)]));

/**
 * What is wrong with one delivered body by the published schema of its type: an empty list when
 * it validates. Checks the raw text, as a site in any language would parse it.
 */
export function schemaProblems(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return ["the body is not JSON"];
  }
  const type = typeof parsed === "object" && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
  const validator = typeof type === "string" ? validators.get(type) : undefined;
  if (!validator) return [`no published schema for type ${JSON.stringify(type)}`];
  const result = validator.validate(parsed);
  if (result.valid) return [];
  // The innermost errors say what is wrong; the outer ones only that something below is.
  return result.errors
    .filter((e) => !/^(properties|\$ref|allOf|anyOf|items|prefixItems)$/.test(e.keyword))
    .map((e) => `${type}: ${e.instanceLocation} ${e.error}`);
}
