/**
 * The trigram index of a user's folded text (`users_fts`, an FTS5 table kept by triggers that read
 * the view `users_fts_source`): the one definition of what it holds, for the SQL that fills it and
 * the TypeScript that queries it (src/db/filter-sql.ts). The view's text below is the view the
 * migrations create (migrations/0011_text_index_nul.sql): test/integration/text-index-source.test.ts
 * compares the two, and compares each user's index row with `expectedIndexRow`.
 *
 * Each column holds exactly the folded expression a filter compares (src/scim/fold.ts: the
 * `*_norm` columns and `data_fold`; `lower(data)` on a row the fold has not reached yet), so the
 * index finds a superset of the rows a `co`, `sw` or `ew` matches and the filter's own test decides.
 * One exception, in both directions alike: FTS5 reads a value only up to its first U+0000, so the
 * index holds U+FFFD in its place and a search replaces it the same way (still a superset).
 */

/** What the index holds in place of U+0000, which FTS5 reads as the end of a value. */
const INDEX_NUL_STANDIN = "\uFFFD";

/** A folded value or search as the index holds it. */
export const indexText = (folded: string): string => folded.replaceAll("\u0000", INDEX_NUL_STANDIN);

/** The same, in SQL, for the view. */
const indexSql = (expr: string): string => `replace(${expr}, char(0), char(${INDEX_NUL_STANDIN.charCodeAt(0)}))`;

/** A caseExact:false value of `data` at `path`, as filters compare it: folded, or lower() until folded. */
const foldedAt = (path: string): string => `coalesce(json_extract(data_fold, '${path}'), lower(json_extract(data, '${path}')))`;

/** The index's columns (FTS5 column → the view's expression). `emails` also holds the primary email (email_norm). */
const COLUMNS: readonly { column: string; expr: string }[] = [
  { column: "user_name", expr: "user_name_norm" },
  { column: "display_name", expr: foldedAt('$."displayName"') },
  { column: "given_name", expr: foldedAt('$."name"."givenName"') },
  { column: "family_name", expr: foldedAt('$."name"."familyName"') },
  {
    column: "emails",
    expr: `coalesce((SELECT group_concat(coalesce(json_extract(data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
    FROM json_each(data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(email_norm, '')`,
  },
];

/** The statement creating `users_fts_source`, exactly as the latest migration writes it. */
export const TEXT_INDEX_VIEW_SQL = `CREATE VIEW \`users_fts_source\` AS
SELECT seq,
  ${COLUMNS.map((c) => `${indexSql(c.expr)} AS ${c.column}`).join(",\n  ")}
FROM \`users\``;

/** SCIM path keys (src/db/filter-sql.ts) → the FTS5 column set a search on them reads. */
export const TEXT_INDEX_PATHS: Readonly<Record<string, string>> = {
  userName: "user_name",
  displayName: "display_name",
  "name.givenName": "given_name",
  "name.familyName": "family_name",
  "emails.value": "emails",
  // The emails column also holds email_norm (the primary email).
  email: "user_name emails",
};

/** A user's index row as the view computes it, from what the write path stored (for the tests). */
export function expectedIndexRow(row: { userNameNorm: string; emailNorm: string | null; dataFold: string }): Record<string, string | null> {
  const fold = JSON.parse(row.dataFold) as Record<string, unknown>;
  const at = (...keys: (string | number)[]): unknown =>
    keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], fold);
  const text = (v: unknown): string | null => (typeof v === "string" ? indexText(v) : null);
  // group_concat skips elements without a value, as this does.
  const emails = (Array.isArray(fold.emails) ? (fold.emails as unknown[]) : []).flatMap((e) => {
    const value = (e as Record<string, unknown> | null)?.value;
    return typeof value === "string" ? [value] : [];
  });
  return {
    user_name: indexText(row.userNameNorm),
    display_name: text(at("displayName")),
    given_name: text(at("name", "givenName")),
    family_name: text(at("name", "familyName")),
    emails: indexText(`${emails.join("\n")}\n${row.emailNorm ?? ""}`),
  };
}
