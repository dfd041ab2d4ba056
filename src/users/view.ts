import { etagOf } from "../http/respond";
import type { Role } from "../roles/rules";
import { ENTERPRISE_USER_SCHEMA_ID, USER_SCHEMA_ID } from "../scim/schemas";

/** The stored state of a user, as the write path computes it and the row holds it. */
export interface UserState {
  id: string;
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

/**
 * The SCIM representation (RFC 7643 §4.1). `active` and the read-only `roles` come from
 * columns; everything else is the stored data exactly as the IdP sent it. Unassigned
 * attributes are simply absent (no null, "" or []).
 */
export function renderUser(u: UserState, baseUrl: string, groups?: readonly GroupRef[]): Record<string, unknown> {
  const location = `${baseUrl}/Users/${u.id}`;
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
    location,
    version: etagOf(u.version),
  };
  return out;
}
