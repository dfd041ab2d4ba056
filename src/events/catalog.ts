/**
 * Every webhook event type and the exact shape of its body (SPEC §9): the one definition the
 * TypeScript types, the published JSON Schemas (site-sdk/schemas/<type>.json, written by
 * `npm run events:generate`, checked by `npm run check`) and the table of event types in
 * docs/webhooks.md are made from. The receiver SDK (site-sdk/) keeps its own copy of the types,
 * because it ships alone; test/types/site-sdk-events.ts fails to compile when the two differ.
 *
 * Objects are exact (no field that is not listed here), except the SCIM resources themselves:
 * a user carries whatever valid attributes the IdP sent (SPEC §5), so `user` and `group` list what
 * is always there and allow the rest.
 */
import * as z from "zod/mini";
import type { Role } from "../roles/role";

/** What a field means: the JSON Schemas' `description`, and the table's note on it. */
const docs = z.registry<{ description: string }>();
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  docs.add(schema, { description });
  return schema;
}

const ROLE_VALUES = ["registered", "moderator", "admin"] as const satisfies readonly Role[];
// Both ways: a role added to src/roles/role.ts and not here fails to compile.
const allRoles: readonly (typeof ROLE_VALUES)[number][] = [] as Role[];
void allRoles;

// Factories, not shared instances: a description belongs to one place in the schema.
const id = () => z.string().check(z.minLength(1));
const isoTime = () => z.iso.datetime();
const ids = (description: string) => described(z.array(id()), description);

const meta = <R extends "User" | "Group">(resourceType: R) =>
  z.object({
    resourceType: z.literal(resourceType),
    created: isoTime(),
    lastModified: isoTime(),
    location: z.url(),
    /** The weak ETag, `W/"<version>"`: the same number as data.version of the event that made this state. */
    version: z.string(),
  });

/**
 * The SCIM user as GET /Users/{id} answers it, without `groups` and with `roles` holding the
 * effective site role (SPEC §5; src/resources/user.ts renderSiteUser): the field the site has
 * always read. The roles an IdP wrote are not sent; they reach the site through the role.
 */
const scimUser = described(
  z.looseObject({
    schemas: z.array(z.string()).check(z.minLength(1)),
    id: id(),
    userName: z.string().check(z.minLength(1)),
    active: z.boolean(),
    roles: described(
      z.array(z.object({ value: z.enum(ROLE_VALUES), primary: z.literal(true) })).check(z.length(1)),
      "the effective site role, one entry (not the roles an IdP wrote)",
    ),
    meta: meta("User"),
  }),
  "the full SCIM user as GET /Users/{id} answers it (every attribute the IdP sent, active, meta), without groups, and with roles the effective site role",
);

/** The SCIM group without members (a group may have 10,000: membership travels as ids). */
const scimGroup = described(
  z.looseObject({
    schemas: z.array(z.string()).check(z.minLength(1)),
    id: id(),
    displayName: z.string().check(z.minLength(1)),
    externalId: z.optional(z.string()),
    meta: meta("Group"),
  }),
  "the SCIM group's attributes (displayName, externalId, meta), never its members",
);

/** data.version: a JSON integer that only grows, per resource (docs/webhooks.md "Order"). */
const version = described(z.int().check(z.positive()), "the resource's version after this change: a JSON integer that only grows");

const attributes = described(z.array(z.string()), "names of the attributes that changed");
const fromTo = <F extends z.ZodMiniType, T extends z.ZodMiniType>(from: F, to: T) => z.object({ from, to });

/** An event's `data`: the resource's id and version, and the fields of its type. */
function data<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.object({ id: described(id(), "the id of the user or group the event is about"), version, ...shape });
}

interface Entry<D extends z.ZodMiniType> {
  /** When the service sends it: one sentence for the docs table. */
  sent: string;
  data: D;
}
const entry = <D extends z.ZodMiniType>(e: Entry<D>) => e;

/**
 * @public (scripts/events-generate.mjs reads it, through Vite's module runner)
 * The event types in the order the docs list them. The names are part of the contract with the
 * main site (SPEC §9); the order of the keys is EVENT_TYPES' order.
 */
export const EVENT_CATALOG = {
  "user.created": entry({
    sent: "A user was created (POST /Users, a Bulk POST).",
    data: data({ user: scimUser, changes: z.strictObject({}) }),
  }),
  "user.updated": entry({
    sent: "Attributes of a user changed (PUT, PATCH), other than active and the role.",
    data: data({ user: scimUser, changes: z.strictObject({ attributes }) }),
  }),
  "user.deactivated": entry({
    sent: "A user's active became false. Comes first among one write's events; may be held by the deprovisioning guard.",
    data: data({
      user: scimUser,
      changes: z.strictObject({ active: described(fromTo(z.literal(true), z.literal(false)), "`{from: true, to: false}`") }),
    }),
  }),
  "user.reactivated": entry({
    sent: "A user's active became true. Comes last among one write's events.",
    data: data({
      user: scimUser,
      changes: z.strictObject({ active: described(fromTo(z.literal(false), z.literal(true)), "`{from: false, to: true}`") }),
    }),
  }),
  "user.role_changed": entry({
    sent: "A user's effective role changed: userType, roles, a mapped group's membership or a settings change.",
    data: data({
      user: scimUser,
      changes: z.strictObject({
        role: described(fromTo(z.enum(ROLE_VALUES), z.enum(ROLE_VALUES)), "`{from, to}`, each registered, moderator or admin"),
        reason: described(z.nullable(z.string()), "the decision in words, as the provisioning log has it"),
      }),
    }),
  }),
  "user.deleted": entry({
    sent: "A user was deleted (DELETE /Users/{id}); each of its groups follows with group.members_removed. May be held by the guard.",
    data: data({ user: scimUser, changes: z.strictObject({}) }),
  }),
  "group.created": entry({
    sent: "A group was created (Okta Push Groups, Entra group provisioning).",
    data: data({ group: scimGroup, changes: z.strictObject({ members: ids("the ids of its first members") }) }),
  }),
  "group.updated": entry({
    sent: "A group's attributes changed (displayName, externalId).",
    data: data({ group: scimGroup, changes: z.strictObject({ attributes }) }),
  }),
  "group.deleted": entry({
    sent: "A group was deleted.",
    data: data({ group: scimGroup, changes: z.strictObject({ members: ids("the ids of the members it had") }) }),
  }),
  "group.members_added": entry({
    sent: "Users joined a group.",
    data: data({ group: scimGroup, changes: z.strictObject({ members: ids("the ids of the users that joined") }) }),
  }),
  "group.members_removed": entry({
    sent: "Users left a group, or a member was deleted.",
    data: data({
      group: scimGroup,
      changes: z.strictObject({
        members: ids("the ids of the users that left"),
        reason: described(z.optional(z.literal("user deleted")), '`"user deleted"` when the member was deleted'),
      }),
    }),
  }),
  "user.synced": entry({
    sent: "A resync's full current state of a user (no change): applied when its version is at least the last applied.",
    data: data({ user: scimUser, resync: described(id(), "the resync's id") }),
  }),
  "group.synced": entry({
    sent: "A resync's full current state of a group, its members in parts of up to 1,000 ids, all of one version.",
    data: data({
      group: scimGroup,
      members: ids("this part's member ids"),
      part: described(z.int().check(z.positive()), "which part, 1 to parts"),
      parts: described(z.int().check(z.positive()), "how many parts this version has"),
      resync: described(id(), "the resync's id"),
    }),
  }),
} as const;

export type EventType = keyof typeof EVENT_CATALOG;

export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

/** The `data` of an event of type T, as the service sends it. */
export type EventData<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]["data"]>;

/** The whole webhook body of one type, exactly as signed and POSTed. */
export type EventBodyOf<T extends EventType> = { type: T; timestamp: string; data: EventData<T> };

/** The body schema of one type: the envelope around its data. */
function bodySchema<T extends EventType>(type: T) {
  return z.strictObject({
    type: z.literal(type),
    timestamp: described(isoTime(), "when the change was committed (UTC, ISO 8601); the same on every attempt"),
    data: EVENT_CATALOG[type].data,
  });
}

/** The published JSON Schema of one type (draft 2020-12). */
export function jsonSchemaOf(type: EventType): Record<string, unknown> {
  const schema = z.toJSONSchema(bodySchema(type), { metadata: docs, target: "draft-2020-12" }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: type,
    description: EVENT_CATALOG[type].sent,
    ...rest,
  };
}

/**
 * @public (scripts/events-generate.mjs reads it, through Vite's module runner)
 * The fields of one type's data besides id and version, with their notes: a docs table cell.
 */
export function dataFieldsOf(type: EventType): string {
  const shape = EVENT_CATALOG[type].data.def.shape as Record<string, z.ZodMiniType>;
  const note = (schema: z.ZodMiniType) =>
    schema === scimUser || schema === scimGroup ? "" : docs.has(schema) ? ` (${docs.get(schema)?.description})` : "";
  const fields: string[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    if (key === "id" || key === "version") continue;
    if (key === "changes") {
      const changes = Object.entries((schema as z.ZodMiniObject).def.shape as Record<string, z.ZodMiniType>);
      if (changes.length === 0) fields.push("`changes: {}`");
      for (const [name, inner] of changes) fields.push(`\`changes.${name}\`${note(inner)}`);
      continue;
    }
    fields.push(`\`${key}\`${note(schema)}`);
  }
  return fields.join(", ");
}
