import { ScimError } from "../scim/errors";
import { etagOf } from "../scim/etag";
import { GROUP_SCHEMA_ID } from "../scim/schemas";
import { foldCase } from "../scim/text";

export interface GroupState {
  id: string;
  /** displayName, externalId (never members: membership lives in rows). */
  data: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface MemberRef {
  value: string;
  display: string;
}

export function renderGroup(g: GroupState, baseUrl: string, members?: readonly MemberRef[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemas: [GROUP_SCHEMA_ID], id: g.id };
  for (const [k, v] of Object.entries(g.data)) if (k !== "members") out[k] = v;
  if (members?.length) {
    out.members = members.map((m) => ({ value: m.value, $ref: `${baseUrl}/Users/${m.value}`, display: m.display, type: "User" }));
  }
  out.meta = {
    resourceType: "Group",
    created: g.createdAt,
    lastModified: g.updatedAt,
    location: `${baseUrl}/Groups/${g.id}`,
    version: etagOf(g.version),
  };
  return out;
}

/** The indexed columns derived from a group's SCIM data. */
export function groupColumns(data: Record<string, unknown>) {
  const displayName = typeof data.displayName === "string" ? data.displayName : "";
  if (displayName === "") throw new ScimError(400, "invalidValue", "displayName is required and must be a non-empty string.");
  return {
    displayName,
    displayNameNorm: foldCase(displayName),
    externalId: typeof data.externalId === "string" && data.externalId !== "" ? data.externalId : null,
  };
}

/** Splits `members` from a group's data: their ids, or undefined when the key was not sent. */
export function splitMembers(data: Record<string, unknown>): { data: Record<string, unknown>; ids: string[] | undefined } {
  const { members, ...rest } = data;
  if (!Array.isArray(members)) return { data: rest, ids: members === undefined ? undefined : [] };
  const ids = members.flatMap((m) =>
    typeof m === "object" && m !== null && typeof (m as { value?: unknown }).value === "string" ? [(m as { value: string }).value] : [],
  );
  return { data: rest, ids: [...new Set(ids)] };
}

/** A group's display name for the log, or its id. */
export const groupName = (g: GroupState): string => (typeof g.data.displayName === "string" ? g.data.displayName : g.id);
