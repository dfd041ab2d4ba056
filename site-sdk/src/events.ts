/**
 * The events the service sends, typed per `type` (the service's src/events/catalog.ts defines
 * them; the repository's typecheck fails when this copy differs from it). The JSON Schema of each
 * is in ../schemas/<type>.json.
 */

/** The site role a user has (SCIM `roles[0].value`). */
export type Role = "registered" | "moderator" | "admin";

export interface ScimMeta<R extends "User" | "Group"> {
  resourceType: R;
  created: string;
  lastModified: string;
  location: string;
  /** The weak ETag, `W/"<version>"`. */
  version: string;
}

/** The full SCIM user as GET /Users/{id} answers it, without `groups`. */
export interface ScimUser {
  schemas: string[];
  id: string;
  userName: string;
  active: boolean;
  /** The effective site role: one entry. */
  roles: { value: Role; primary: true }[];
  meta: ScimMeta<"User">;
  /** Whatever else the IdP sent: name, emails, userType, the enterprise extension... */
  [attribute: string]: unknown;
}

/** A SCIM group's attributes; never its members (they travel as ids). */
export interface ScimGroup {
  schemas: string[];
  id: string;
  displayName: string;
  externalId?: string;
  meta: ScimMeta<"Group">;
  [attribute: string]: unknown;
}

/** Every event's data: the resource's id and its version after the change (a JSON integer that only grows). */
export interface Versioned {
  id: string;
  version: number;
}

type Event<T extends string, D> = { type: T; timestamp: string; data: Versioned & D };
type NoChanges = { [key: string]: never };
type Members = { members: string[] };

export type UserCreated = Event<"user.created", { user: ScimUser; changes: NoChanges }>;
export type UserUpdated = Event<"user.updated", { user: ScimUser; changes: { attributes: string[] } }>;
export type UserDeactivated = Event<"user.deactivated", { user: ScimUser; changes: { active: { from: true; to: false } } }>;
export type UserReactivated = Event<"user.reactivated", { user: ScimUser; changes: { active: { from: false; to: true } } }>;
export type UserRoleChanged = Event<
  "user.role_changed",
  { user: ScimUser; changes: { role: { from: Role; to: Role }; reason: string | null } }
>;
export type UserDeleted = Event<"user.deleted", { user: ScimUser; changes: NoChanges }>;
export type GroupCreated = Event<"group.created", { group: ScimGroup; changes: Members }>;
export type GroupUpdated = Event<"group.updated", { group: ScimGroup; changes: { attributes: string[] } }>;
export type GroupDeleted = Event<"group.deleted", { group: ScimGroup; changes: Members }>;
export type GroupMembersAdded = Event<"group.members_added", { group: ScimGroup; changes: Members }>;
export type GroupMembersRemoved = Event<"group.members_removed", { group: ScimGroup; changes: Members & { reason?: "user deleted" } }>;
export type UserSynced = Event<"user.synced", { user: ScimUser; resync: string }>;
export type GroupSynced = Event<"group.synced", { group: ScimGroup; members: string[]; part: number; parts: number; resync: string }>;

/** Any event the service sends, discriminated by `type`. */
export type ScimEvent =
  | UserCreated
  | UserUpdated
  | UserDeactivated
  | UserReactivated
  | UserRoleChanged
  | UserDeleted
  | GroupCreated
  | GroupUpdated
  | GroupDeleted
  | GroupMembersAdded
  | GroupMembersRemoved
  | UserSynced
  | GroupSynced;

export type EventType = ScimEvent["type"];
export type UserEvent = Extract<ScimEvent, { data: { user: ScimUser } }>;
export type GroupEvent = Extract<ScimEvent, { data: { group: ScimGroup } }>;

/** Every event type, in the order the docs list them. */
export const EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deactivated",
  "user.reactivated",
  "user.role_changed",
  "user.deleted",
  "group.created",
  "group.updated",
  "group.deleted",
  "group.members_added",
  "group.members_removed",
  "user.synced",
  "group.synced",
] as const satisfies readonly EventType[];

// Both ways: a type in the union and not in the list fails to compile.
const listed: readonly (typeof EVENT_TYPES)[number][] = [] as EventType[];
void listed;

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && (EVENT_TYPES as readonly string[]).includes(value);
}

export function isUserEvent(event: ScimEvent): event is UserEvent {
  return event.type.startsWith("user.");
}

export function isGroupEvent(event: ScimEvent): event is GroupEvent {
  return event.type.startsWith("group.");
}
