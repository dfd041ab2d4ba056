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
    { name: "a tab first", input: "\t=1", want: `"'\t=1"` },
    { name: "a formula with a comma", input: '=HYPERLINK("x","y")', want: `"'=HYPERLINK(""x"",""y"")"` },
    { name: "a sign later on", input: "a=b", want: "a=b" },
    // Where the list separator is ";" (much of Europe), an unquoted field would split into a formula cell.
    { name: "a semicolon before a formula", input: "x;=cmd|' /C calc'!A0", want: `"x;=cmd|' /C calc'!A0"` },
    { name: "a semicolon", input: "a;b", want: '"a;b"' },
    { name: "a pipe", input: "a|b", want: '"a|b"' },
    { name: "a tab inside", input: "a\t=1", want: '"a\t=1"' },
    // A spreadsheet reads the first visible character, in its compatibility form.
    { name: "a fullwidth equals sign", input: "＝1+1", want: "'＝1+1" },
    { name: "a fullwidth plus, minus and at", input: "＋1", want: "'＋1" },
    { name: "a fullwidth at", input: "＠SUM(A1)", want: "'＠SUM(A1)" },
    { name: "a small equals sign", input: "﹦1", want: "'﹦1" },
    { name: "a space before the sign", input: " =1+1", want: "' =1+1" },
    { name: "spaces, a no-break space and a zero-width space before the sign", input: "  \u00a0\u200b=1", want: "'  \u00a0\u200b=1" },
    { name: "a line feed first", input: "\n=1", want: '"\'\n=1"' },
    { name: "a control character before the sign", input: "\u0001=1", want: "'\u0001=1" },
    { name: "a space before plain text", input: " plain", want: " plain" },
  ];
  for (const row of table) {
    it(row.name, () => {
      expect(csvField(row.input)).toBe(row.want);
    });
  }
});
