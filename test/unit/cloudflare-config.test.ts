import { describe, expect, it } from "vitest";
import { databaseIdFrom, PLACEHOLDER_DATABASE_ID, withDatabaseId } from "../../scripts/lib/cloudflare-config.mjs";

const ID = "4b1f7e0e-9c1d-4c55-8d0e-2f6a1c3b9e77";
const TOML = `name = "scim-edge"

# A comment that stays.
[[d1_databases]]
binding = "DB"
database_name = "scim"
database_id = "${PLACEHOLDER_DATABASE_ID}"
migrations_dir = "migrations"

[[queues.producers]]
binding = "EVENTS"
queue = "scim-events"
`;

describe("npm run setup:cloudflare: writing the D1 id into wrangler.toml", () => {
  it("replaces only the database_id of the DB block, keeping comments and everything else", () => {
    const out = withDatabaseId(TOML, "DB", ID);
    expect(out).toBe(TOML.replace(PLACEHOLDER_DATABASE_ID, ID));
    expect(withDatabaseId(out, "DB", ID)).toBe(out);
  });

  it("picks the block by its binding when there are several databases", () => {
    const two = `[[d1_databases]]\nbinding = "OTHER"\ndatabase_id = "keep"\n\n${TOML.slice(TOML.indexOf("[[d1_databases]]"))}`;
    const out = withDatabaseId(two, "DB", ID);
    expect(out).toContain('database_id = "keep"');
    expect(out).toContain(`database_id = "${ID}"`);
  });

  const refusals = [
    {
      name: "no block with that binding",
      toml: TOML.replace('binding = "DB"', 'binding = "X"'),
      id: ID,
      want: /no \[\[d1_databases\]\] block/,
    },
    { name: "a block without a database_id line", toml: TOML.replace(/^database_id.*$/m, ""), id: ID, want: /no database_id line/ },
    { name: "an id that is not a uuid", toml: TOML, id: '"; drop', want: /not a D1 database id/ },
  ];
  it.each(refusals)("refuses rather than guesses: $name", ({ toml, id, want }) => {
    expect(() => withDatabaseId(toml, "DB", id)).toThrow(want);
  });
});

describe("npm run setup:cloudflare: reading `wrangler d1 list --json`", () => {
  const list = JSON.stringify([
    { uuid: "11111111-1111-1111-1111-111111111111", name: "scim-staging" },
    { uuid: ID, name: "scim" },
  ]);
  const rows = [
    { name: "finds the database by its exact name", json: list, want: ID },
    { name: "no such database", json: JSON.stringify([{ uuid: ID, name: "other" }]), want: undefined },
    { name: "an empty account", json: "[]", want: undefined },
  ];
  it.each(rows)("$name", ({ json, want }) => {
    expect(databaseIdFrom(json, "scim")).toBe(want);
  });

  it("says so when wrangler printed something else", () => {
    expect(() => databaseIdFrom("Not logged in.", "scim")).toThrow(/not JSON/);
  });
});
