import { describe, expect, it } from "vitest";
import { csvField } from "../../src/admin/export-format";

describe("csvField (RFC 4180, and no formula a spreadsheet would run)", () => {
  const table: { name: string; input: string | number | null; want: string }[] = [
    { name: "plain text", input: "GET", want: "GET" },
    { name: "a number", input: 201, want: "201" },
    { name: "null", input: null, want: "" },
    { name: "a comma", input: "a,b", want: '"a,b"' },
    { name: "a quote", input: 'say "hi"', want: '"say ""hi"""' },
    { name: "a line break", input: "one\ntwo", want: '"one\ntwo"' },
    { name: "a formula", input: "=1+1", want: "'=1+1" },
    { name: "a plus", input: "+admin", want: "'+admin" },
    { name: "a minus", input: "-1", want: "'-1" },
    { name: "an at sign", input: "@SUM(A1)", want: "'@SUM(A1)" },
    { name: "a tab first", input: "\t=1", want: "'\t=1" },
    { name: "a formula with a comma", input: '=HYPERLINK("x","y")', want: `"'=HYPERLINK(""x"",""y"")"` },
    { name: "a sign later on", input: "a=b", want: "a=b" },
  ];
  for (const row of table) {
    it(row.name, () => {
      expect(csvField(row.input)).toBe(row.want);
    });
  }
});
