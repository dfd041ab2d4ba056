// The bench's users and groups, and the rows the service would write for them. A seeded row must
// be indistinguishable from one written by POST /Users (src/users/service.ts, src/db/users.ts):
// `data` is the normalised resource without `active` (a column) or `schemas`, `user_name_norm`
// and `email_norm` are foldCase (NFKC, then lower case: src/scim/text.ts), `data_fold` is the
// folded copy (src/scim/fold.ts), version 1. test/unit/bench-rows.test.ts holds them to that.
import { randomUUID } from "node:crypto";

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const foldCase = (s) => s.normalize("NFKC").toLowerCase();

/** The SCIM attributes of bench user `i` (an Okta-shaped user) as an IdP would send them. */
export function userAttributes(tag, i) {
  const userName = `Bench.${tag}${i}@Example.com`;
  return {
    userName,
    name: { givenName: "Bench", familyName: `${tag}${i}` },
    emails: [{ primary: true, value: userName.toLowerCase(), type: "work" }],
    displayName: `Bench ${tag}${i}`,
    locale: "en-US",
    externalId: `00u${tag}${i}`,
  };
}

export function userBody(tag, i, extra = {}) {
  return { schemas: [USER_SCHEMA], ...userAttributes(tag, i), active: true, ...extra };
}

/**
 * data_fold of userAttributes(): its caseExact:false strings folded (src/scim/fold.ts), so
 * externalId and emails[].primary are left out and emails keep their positions.
 */
export function foldedAttributes(attrs) {
  return {
    userName: foldCase(attrs.userName),
    name: { givenName: foldCase(attrs.name.givenName), familyName: foldCase(attrs.name.familyName) },
    emails: attrs.emails.map((e) => ({ value: foldCase(e.value), type: foldCase(e.type) })),
    displayName: foldCase(attrs.displayName),
    locale: foldCase(attrs.locale),
  };
}

const q = (v) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`);

/** One VALUES tuple of the users table, as the service's insertUser writes it. */
function userRow(id, attrs, at) {
  const cols = [
    id,
    attrs.userName,
    foldCase(attrs.userName),
    attrs.externalId,
    attrs.displayName,
    foldCase(attrs.emails[0].value),
    1,
    null,
    "registered",
    JSON.stringify(attrs),
    JSON.stringify(foldedAttributes(attrs)),
    null,
    1,
    at,
    at,
  ];
  return `(${cols.map(q).join(",")})`;
}

const USER_COLUMNS =
  "id, user_name, user_name_norm, external_id, display_name, email_norm, active, user_type, role, data, data_fold, password_hash, version, created_at, updated_at";

/**
 * SQL inserting users `from`..`to-1` (tag "U") in statements of `rowsPerStatement` rows, and
 * returns the seeded { id, i } list. Timestamps are 1 ms apart, in insertion order.
 */
export function usersSql(from, to, baseTime, rowsPerStatement = 100) {
  const users = [];
  const statements = [];
  for (let start = from; start < to; start += rowsPerStatement) {
    const rows = [];
    for (let i = start; i < Math.min(to, start + rowsPerStatement); i++) {
      const id = randomUUID();
      users.push({ id, i });
      rows.push(userRow(id, userAttributes("U", i), new Date(baseTime + i).toISOString()));
    }
    statements.push(`INSERT INTO users (${USER_COLUMNS}) VALUES\n${rows.join(",\n")};`);
  }
  return { sql: statements.join("\n"), users };
}

/** Small groups (no members) as createGroup writes them: data is the resource without members. */
export function groupsSql(count, baseTime) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    const data = { displayName: `Bench Team ${i}`, externalId: `00g${i}` };
    const at = new Date(baseTime + i).toISOString();
    rows.push(
      `(${[randomUUID(), data.displayName, foldCase(data.displayName), data.externalId, JSON.stringify(data), 1, at, at].map(q).join(",")})`,
    );
  }
  if (!rows.length) return "";
  return `INSERT INTO groups (id, display_name, display_name_norm, external_id, data, version, created_at, updated_at) VALUES\n${rows.join(",\n")};`;
}

// SCIM on; every other setting takes its default (src/settings/model.ts), as in scripts/dev.mjs.
export const SETTINGS_SQL = `INSERT OR IGNORE INTO settings (id, data, updated_at) VALUES (1, '${JSON.stringify({
  scimEnabled: true,
})}', strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;
