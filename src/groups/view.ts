import type { GroupRow } from "../db/groups";
import { etagOf } from "../http/respond";
import { GROUP_SCHEMA_ID } from "../scim/schemas";

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

/** A stored group row as state; the columns stand in if the JSON is unreadable. */
export function groupState(row: GroupRow): GroupState {
  let data: Record<string, unknown> = { displayName: row.displayName };
  try {
    const parsed: unknown = JSON.parse(row.data);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    // keep the columns' view
  }
  return { id: row.id, data, version: row.version, createdAt: row.createdAt, updatedAt: row.updatedAt };
}
