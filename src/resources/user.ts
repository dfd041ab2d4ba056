import type { Role } from "../roles/rules";
import { ScimError } from "../scim/errors";
import { etagOf } from "../scim/etag";
import { foldedDocument } from "../scim/fold";
import { ENTERPRISE_USER_SCHEMA_ID, USER_RESOURCE, USER_SCHEMA_ID } from "../scim/schemas";
import { foldCase } from "../scim/text";

/** A user as the write path computes it and its row holds it. */
export interface UserState {
  id: string;
  /** The SCIM attributes exactly as the IdP sent them (canonical names), without `active`. */
  data: Record<string, unknown>;
  active: boolean;
  role: Role;
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
}

/**
 * The SCIM representation (RFC 7643 §4.1). `active` and the read-only `roles` come from
 * columns; everything else is the stored data exactly as the IdP sent it. Unassigned
 * attributes are simply absent (no null, "" or []).
 */
export function renderUser(u: UserState, baseUrl: string, groups?: readonly GroupRef[]): Record<string, unknown> {
  const schemas = [USER_SCHEMA_ID];
  if (u.data[ENTERPRISE_USER_SCHEMA_ID] !== undefined) schemas.push(ENTERPRISE_USER_SCHEMA_ID);
  const out: Record<string, unknown> = { schemas, id: u.id };
  for (const [k, v] of Object.entries(u.data)) if (k !== "active") out[k] = v;
  out.active = u.active;
  out.roles = [{ value: u.role, primary: true }];
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

const nonEmpty = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

function primaryEmail(data: Record<string, unknown>): string | null {
  const emails = Array.isArray(data.emails) ? (data.emails as Record<string, unknown>[]) : [];
  const chosen = emails.find((e) => e.primary === true) ?? emails[0];
  const value = chosen ? nonEmpty(chosen.value) : null;
  return value === null ? null : foldCase(value);
}

/** The folded userName: what uniqueness, lookups and the guard's name hold compare. */
export const userNameNorm = (userName: string): string => foldCase(userName);

export function userColumns(data: Record<string, unknown>): UserColumns {
  const userName = nonEmpty(data.userName);
  if (userName === null) throw new ScimError(400, "invalidValue", "userName is required and must be a non-empty string.");
  return {
    userName,
    userNameNorm: userNameNorm(userName),
    externalId: nonEmpty(data.externalId),
    displayName: nonEmpty(data.displayName),
    emailNorm: primaryEmail(data),
    userType: nonEmpty(data.userType),
    dataFold: JSON.stringify(foldedDocument(data, USER_RESOURCE)),
  };
}

/** Splits `active` (a column) from the rest of the stored data. */
export function splitActive(data: Record<string, unknown>): { data: Record<string, unknown>; active: boolean | undefined } {
  const { active, ...rest } = data;
  return { data: rest, active: typeof active === "boolean" ? active : undefined };
}
