/**
 * The published JSON Schemas (site-sdk/schemas/, written from src/events/catalog.ts) as the site
 * would use them: every stand-in site of the tests checks each body it receives against the schema
 * of its type with a JSON Schema validator (draft 2020-12), not with the catalog itself.
 */
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
import { schemaChecker } from "./schema-check";

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

/**
 * What is wrong with one delivered body by the published schema of its type: an empty list when
 * it validates. Checks the raw text, as a site in any language would parse it.
 */
export const schemaProblems = schemaChecker(SCHEMAS);
