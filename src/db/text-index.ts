/**
 * The trigram index of a user's folded text (`users_fts`, an FTS5 table kept by triggers that read
 * the view `users_fts_source`): the one definition of what it holds, for the SQL that fills it and
 * the TypeScript that queries it (src/db/filter-sql.ts). The view's text below is the view the
 * migrations create (migrations/0011_unicode_identities.sql): test/integration/text-index-source.test.ts
 * compares the two, and compares each user's index row with `expectedIndexRow`.
 *
 * Each column holds exactly the folded expression a filter compares (src/scim/fold.ts: the
 * `*_norm` columns and `data_fold`; `lower(data)` on a row the fold has not reached yet), written
 * as a JSON string literal (json_quote: `"`, `\` and control characters escaped), and a search is
 * written the same way: FTS5's trigram tokenizer stops reading a value at its first U+0000, so a
 * userName "a\0filo" was indexed as "a" (co "ilo" missed it), and a search holding U+0000 was an
 * unterminated FTS5 string (a 500). Escaping maps each character to one string, so a value that
 * holds a search holds the escaped search: the index still finds a superset of the rows a `co`,
 * `sw` or `ew` matches, and the filter's own test on the value itself decides.
 */

/** A folded search as the index holds it: JSON.stringify escapes as SQLite's json_quote does. */
export const indexText = (folded: string): string => JSON.stringify(folded).slice(1, -1);

/** The view's expression for a column: the value as a JSON string literal; NULL stays NULL. */
const indexSql = (expr: string, nullable: boolean): string =>
  nullable ? `CASE WHEN ${expr} IS NULL THEN NULL ELSE json_quote(${expr}) END` : `json_quote(${expr})`;

/** A caseExact:false value of `data` at `path`, as filters compare it: folded, or lower() until folded. */
const foldedAt = (path: string): string => `coalesce(json_extract(data_fold, '${path}'), lower(json_extract(data, '${path}')))`;

/** The index's columns (FTS5 column → the view's expression). `emails` also holds the primary email (email_norm). */
const COLUMNS: readonly { column: string; expr: string; nullable: boolean }[] = [
  { column: "user_name", expr: "user_name_norm", nullable: false },
  { column: "display_name", expr: foldedAt('$."displayName"'), nullable: true },
  { column: "given_name", expr: foldedAt('$."name"."givenName"'), nullable: true },
  { column: "family_name", expr: foldedAt('$."name"."familyName"'), nullable: true },
  {
    column: "emails",
    nullable: false,
    expr: `coalesce((SELECT group_concat(coalesce(json_extract(data_fold, '$."emails"[' || e.key || ']."value"'), lower(json_extract(e.value, '$."value"'))), char(10))
    FROM json_each(data, '$."emails"') AS e WHERE e.type = 'object'), '') || char(10) || coalesce(email_norm, '')`,
  },
];

/** The statement creating `users_fts_source`, exactly as the latest migration writes it. */
export const TEXT_INDEX_VIEW_SQL = `CREATE VIEW \`users_fts_source\` AS
SELECT seq,
  ${COLUMNS.map((c) => `${indexSql(c.expr, c.nullable)} AS ${c.column}`).join(",\n  ")}
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
  const text = (v: unknown): string | null => (typeof v === "string" ? JSON.stringify(v) : null);
  // group_concat skips elements without a value, as this does.
  const emails = (Array.isArray(fold.emails) ? (fold.emails as unknown[]) : []).flatMap((e) => {
    const value = (e as Record<string, unknown> | null)?.value;
    return typeof value === "string" ? [value] : [];
  });
  return {
    user_name: JSON.stringify(row.userNameNorm),
    display_name: text(at("displayName")),
    given_name: text(at("name", "givenName")),
    family_name: text(at("name", "familyName")),
    emails: JSON.stringify(`${emails.join("\n")}\n${row.emailNorm ?? ""}`),
  };
}
