import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, expectStatus, SCIM_TOKEN } from "../helpers";

/** GET /admin/api/log/export: the provisioning log of a time range, streamed as CSV or NDJSON. */

// A range of its own, in the past, so nothing else this file writes falls into it.
const FROM = "2026-03-01T00:00:00.000Z";
const TO = "2026-03-02T00:00:00.000Z";
const ROWS = 2_345;

/** Inserts `n` log rows spread over the range, 100 per statement (one bound JSON array each). */
async function seedLog(n: number): Promise<void> {
  const span = Date.parse(TO) - Date.parse(FROM);
  for (let start = 0; start < n; start += 100) {
    const rows = Array.from({ length: Math.min(100, n - start) }, (_, i) => {
      const k = start + i;
      return { at: new Date(Date.parse(FROM) + Math.floor((k * span) / n)).toISOString(), k };
    });
    await env.DB.prepare(
      `INSERT INTO provisioning_log (at, request_id, method, path, status, resource_type, resource_id, decisions, detail)
       SELECT json_extract(value, '$.at'), 'seed-' || json_extract(value, '$.k'), 'GET', '/api/scim/v2/Users/u' || json_extract(value, '$.k'), 200,
         'User', 'u' || json_extract(value, '$.k'), NULL, NULL FROM json_each(?)`,
    )
      .bind(JSON.stringify(rows))
      .run();
  }
}

const exportOf = (query: Record<string, string>) => admin("GET", `/log/export?${new URLSearchParams(query)}`);

/** A CSV file as rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (quoted) {
      field += ch;
    } else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else {
      field += ch;
    }
  }
  return rows;
}

beforeAll(async () => {
  await seedLog(ROWS);
  // One row with everything a spreadsheet or a parser could trip on.
  await env.DB.prepare(
    `INSERT INTO provisioning_log (at, request_id, method, path, status, resource_type, resource_id, decisions, detail, actor)
     VALUES (?, 'tricky', 'PATCH', '/api/scim/v2/Users/=HYPERLINK("x")', 400, 'User', '@evil', ?, ?, '+admin')`,
  )
    .bind("2026-03-01T12:00:00.500Z", JSON.stringify(['role kept: "admin", off', "-1+1"]), 'line one\nline "two", done')
    .run();
  // Formulas a spreadsheet would find where the list separator is ";", or behind a space or a fullwidth sign.
  await env.DB.prepare(
    `INSERT INTO provisioning_log (at, request_id, method, path, status, resource_type, resource_id, decisions, detail, actor)
     VALUES (?, 'tricky-2', 'GET', '/api/scim/v2/Users', 400, 'User', ' =2+2', NULL, ?, '＝1+1')`,
  )
    .bind("2026-03-01T12:00:00.600Z", "x;=cmd|' /C calc'!A0")
    .run();
});

describe("GET /admin/api/log/export", () => {
  it("streams every row of the range as CSV, oldest first, with a header and a download file name", async () => {
    const res = await exportOf({ format: "csv", from: FROM, to: TO });
    expect(
      res.status,
      await res
        .clone()
        .text()
        .then((t) => t.slice(0, 300)),
    ).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="provisioning-log_2026-03-01T00-00-00Z_2026-03-02T00-00-00Z.csv"',
    );
    expect(res.headers.get("x-log-rows")).toBe(String(ROWS + 2));
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual([
      "seq",
      "at",
      "requestId",
      "method",
      "path",
      "status",
      "resourceType",
      "resourceId",
      "resourceName",
      "resourceEmail",
      "actor",
      "quirks",
      "decisions",
      "detail",
    ]);
    const data = rows.slice(1);
    expect(data).toHaveLength(ROWS + 2);
    const seqs = data.map((r) => Number(r[0]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(data.every((r) => (r[1] ?? "") >= FROM && (r[1] ?? "") < TO)).toBe(true);
  });

  it("quotes commas, quotes and line breaks, and neutralises cells a spreadsheet would run as a formula", async () => {
    const rows = parseCsv(await (await exportOf({ format: "csv", from: FROM, to: TO })).text());
    const tricky = rows.find((r) => r[2] === "tricky");
    // Only a leading = + - @ runs as a formula: a path that starts with "/" is kept as it is.
    expect(tricky?.[4]).toBe('/api/scim/v2/Users/=HYPERLINK("x")');
    expect(tricky?.[7]).toBe("'@evil");
    expect(tricky?.[10]).toBe("'+admin");
    expect(tricky?.[12]).toBe('role kept: "admin", off; -1+1');
    expect(tricky?.[13]).toBe('line one\nline "two", done');
  });

  it("quotes semicolons and pipes (one cell in every locale), and neutralises a fullwidth ＝ or a space before =", async () => {
    const text = await (await exportOf({ format: "csv", from: FROM, to: TO })).text();
    const line = text.split("\r\n").find((l) => l.includes("tricky-2")) ?? "";
    expect(line).toContain(`"x;=cmd|' /C calc'!A0"`);
    // Split the way a semicolon locale would, honouring quotes: no cell starts with a formula sign.
    const cells = line.match(/("([^"]|"")*"|[^;,]*)/g) ?? [];
    for (const cell of cells) expect(cell.replace(/^"/, "").trimStart()).not.toMatch(/^[=+\-@＝＋－＠]/);
    const tricky = parseCsv(text).find((r) => r[2] === "tricky-2");
    expect(tricky?.[7]).toBe("' =2+2");
    expect(tricky?.[10]).toBe("'＝1+1");
    expect(tricky?.[13]).toBe("x;=cmd|' /C calc'!A0");
  });

  it("streams NDJSON: one log object a line, the same shape as GET /admin/api/log", async () => {
    const res = await exportOf({ format: "ndjson", from: FROM, to: "2026-03-01T12:00:01Z" });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    // Decoded by hand: workerd warns when .text() reads a body that is not text/*.
    const lines = new TextDecoder()
      .decode(await res.arrayBuffer())
      .split("\n")
      .filter(Boolean);
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects.length).toBeGreaterThan(1000);
    const tricky = objects.find((o) => o.requestId === "tricky");
    expect(tricky).toMatchObject({
      method: "PATCH",
      status: 400,
      resourceId: "@evil",
      actor: "+admin",
      decisions: ['role kept: "admin", off', "-1+1"],
    });
  });

  it("an empty range is a header only; the export itself is logged with its actor", async () => {
    const res = await exportOf({ format: "csv", from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z" });
    expect(await res.text()).toBe(
      "seq,at,requestId,method,path,status,resourceType,resourceId,resourceName,resourceEmail,actor,quirks,decisions,detail\r\n",
    );
    const row = await env.DB.prepare(
      "SELECT decisions, actor FROM provisioning_log WHERE path LIKE '/admin/api/log/export%' ORDER BY seq DESC LIMIT 1",
    ).first<{
      decisions: string;
      actor: string;
    }>();
    expect(row?.actor).toBe("admin token");
    expect(row?.decisions).toContain("provisioning log exported as csv: 2020-01-01T00:00:00.000Z to 2020-01-02T00:00:00.000Z, 0 rows");
  });

  it("accepts offsets and returns the range in UTC", async () => {
    const res = await exportOf({ format: "csv", from: "2026-03-01T01:00:00+01:00", to: "2026-03-01T02:00:00+01:00" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain("2026-03-01T00-00-00Z_2026-03-01T01-00-00Z");
  });

  const bad: { name: string; query: Record<string, string>; detail: RegExp }[] = [
    { name: "no format", query: { from: FROM, to: TO }, detail: /format/ },
    { name: "an unknown format", query: { format: "xlsx", from: FROM, to: TO }, detail: /format/ },
    { name: "no range", query: { format: "csv" }, detail: /from/ },
    { name: "a date without a time zone", query: { format: "csv", from: "2026-03-01T00:00:00", to: TO }, detail: /time zone/ },
    { name: "a date that is not one", query: { format: "csv", from: "yesterday", to: TO }, detail: /ISO 8601/ },
    { name: "an end before the start", query: { format: "csv", from: TO, to: FROM }, detail: /must be after/ },
    { name: "an empty range", query: { format: "csv", from: FROM, to: FROM }, detail: /must be after/ },
    {
      name: "more than 93 days",
      query: { format: "csv", from: "2026-01-01T00:00:00Z", to: "2026-04-04T00:00:01Z" },
      detail: /at most 93 days/,
    },
    { name: "an unknown parameter", query: { format: "csv", from: FROM, to: TO, limit: "10" }, detail: /limit/ },
  ];
  for (const b of bad) {
    it(`answers ${b.name} with 400 {error, detail}`, async () => {
      const body = await expectStatus(await exportOf(b.query), 400);
      expect(body.error).toBe("invalid_query");
      expect(body.detail).toMatch(b.detail);
    });
  }

  it("is 401 without the admin token and with the SCIM token", async () => {
    for (const token of [null, SCIM_TOKEN]) {
      expect((await admin("GET", `/log/export?format=csv&from=${FROM}&to=${TO}`, undefined, token)).status).toBe(401);
    }
  });
});
