import type { Role } from "../roles/role";
import { ScimError } from "../scim/errors";
import { etagOf } from "../scim/etag";
import { foldedDocument } from "../scim/fold";
import { ENTERPRISE_USER_SCHEMA_ID, SITE_ROLES, SITE_USER_SCHEMA_ID, USER_RESOURCE, USER_SCHEMA_ID } from "../scim/schemas";
import { foldCase } from "../scim/text";
import { assertUserName } from "../scim/username";

/** A user as the write path computes it and its row holds it. */
export interface UserState {
  id: string;
  /** The SCIM attributes exactly as the IdP sent them (canonical names), without `active`. */
  data: Record<string, unknown>;
  active: boolean;
  role: Role;
  /** The IdP has written `roles` for this user: it stays a role source once emptied (src/roles/sources.ts). */
  rolesManaged: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface GroupRef {
  value: string;
  display: string;
}

/** The indexed columns derived from a user's SCIM data (src/db/schema.ts). */
export interface UserColumns {
  userName: string;
  userNameNorm: string;
  externalId: string | null;
  displayName: string | null;
  emailNorm: string | null;
  userType: string | null;
  /** The folded copy of the data filters compare caseExact:false attributes against (src/scim/fold.ts). */
  dataFold: string;
  /** The fold the three folded columns were made with (FOLD_VERSION): older ones are refolded (src/jobs/fold.ts). */
  foldVersion: number;
}

/**
 * The version of foldCase (src/scim/text.ts) the folded columns hold. 0: NFKC and toLowerCase
 * (before migration 0011); 1: NFKC_Casefold (full case folding, final sigma, ß = ss, default
 * ignorables removed). Raise it, and the partial index users_refold_idx with it, when the fold changes.
 */
export const FOLD_VERSION = 1;

/**
 * The SCIM representation (RFC 7643 §4.1), as an IdP reads it (GET): `active` comes from its
 * column, everything else is the stored data exactly as the IdP sent it, `roles` included (Entra
 * compares what it mapped with what it reads: a value that came back changed would be sent again
 * every cycle). The effective site role is the read-only `role` of SITE_USER_SCHEMA_ID.
 * Unassigned attributes are simply absent (no null, "" or []).
 */
export function renderUser(u: UserState, baseUrl: string, groups?: readonly GroupRef[]): Record<string, unknown> {
  const schemas = [USER_SCHEMA_ID];
  if (u.data[ENTERPRISE_USER_SCHEMA_ID] !== undefined) schemas.push(ENTERPRISE_USER_SCHEMA_ID);
  schemas.push(SITE_USER_SCHEMA_ID);
  const out: Record<string, unknown> = { schemas, id: u.id };
  for (const [k, v] of Object.entries(u.data)) if (k !== "active") out[k] = v;
  out.active = u.active;
  out[SITE_USER_SCHEMA_ID] = { role: u.role };
  if (groups?.length) {
    out.groups = groups.map((g) => ({ value: g.value, $ref: `${baseUrl}/Groups/${g.value}`, display: g.display, type: "direct" }));
  }
  out.meta = {
    resourceType: "User",
    created: u.createdAt,
    lastModified: u.updatedAt,
    location: `${baseUrl}/Users/${u.id}`,
    version: etagOf(u.version),
  };
  return out;
}

/**
 * The user as the site receives it in every event (src/events/catalog.ts): the IdP's view, except
 * that `roles` is the effective site role, one entry (`[{"value":"moderator","primary":true}]`),
 * the field the site has always read. The roles an IdP wrote are the IdP's business: they reach
 * the site only through the role they decide.
 */
export function renderSiteUser(u: UserState, baseUrl: string): Record<string, unknown> {
  const { roles: _written, ...user } = renderUser(u, baseUrl);
  const { meta, ...rest } = user;
  return { ...rest, roles: [{ value: u.role, primary: true }], meta };
}

const nonEmpty = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

function primaryEmail(data: Record<string, unknown>): string | null {
  const emails = Array.isArray(data.emails) ? (data.emails as Record<string, unknown>[]) : [];
  const chosen = emails.find((e) => e.primary === true) ?? emails[0];
  const value = chosen ? nonEmpty(chosen.value) : null;
  return value === null ? null : foldCase(value);
}

/** The folded userName: what uniqueness, lookups and the guard's name hold compare. */
export const userNameNorm = (userName: string): string => foldCase(userName);

/** The folded columns of a user's data: what the write path stores and the refold rewrites. */
export function foldedColumns(data: Record<string, unknown>): Pick<UserColumns, "userNameNorm" | "emailNorm" | "dataFold" | "foldVersion"> {
  return {
    userNameNorm: userNameNorm(nonEmpty(data.userName) ?? ""),
    emailNorm: primaryEmail(data),
    dataFold: JSON.stringify(foldedDocument(data, USER_RESOURCE)),
    foldVersion: FOLD_VERSION,
  };
}

/**
 * The indexed columns of a user's data. The userName must be one a person can tell apart
 * (src/scim/username.ts) when it is set: on create, and when a write changes it (`previous` is
 * the stored data). A userName stored before the rule is kept as it is, so deactivating such a
 * user never fails on it.
 */
export function userColumns(data: Record<string, unknown>, previous?: Record<string, unknown>): UserColumns {
  const userName = nonEmpty(data.userName);
  if (userName === null) throw new ScimError(400, "invalidValue", "userName is required and must be a non-empty string.");
  if (previous === undefined || previous.userName !== userName) assertUserName(userName);
  return {
    userName,
    externalId: nonEmpty(data.externalId),
    displayName: nonEmpty(data.displayName),
    userType: nonEmpty(data.userType),
    ...foldedColumns(data),
  };
}

/** Splits `active` (a column) from the rest of the stored data. */
export function splitActive(data: Record<string, unknown>): { data: Record<string, unknown>; active: boolean | undefined } {
  const { active, ...rest } = data;
  return { data: rest, active: typeof active === "boolean" ? active : undefined };
}

// Both ways: the schemas' role list (src/scim/ imports nothing) is exactly src/roles/role.ts's.
const schemaRoles: readonly Role[] = SITE_ROLES;
const allRoles: readonly (typeof SITE_ROLES)[number][] = [] as Role[];
void schemaRoles;
void allRoles;
