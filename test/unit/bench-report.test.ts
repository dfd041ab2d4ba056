import { describe, expect, it } from "vitest";
import { resultsTable } from "../../bench/lib/report.mjs";

/** The bench's verdict on a row held to another row's ratio (GET by id with an access token vs the static token). */

const row = (key: string, ratio: number, target?: Record<string, unknown>) => ({
  key,
  label: key,
  target,
  ratio,
  rps: 100 * ratio,
  p50: 10,
  p95: 20,
  p99: 30,
  errors: 0,
  cpuMs: 5,
  roundTrips: { mode: 1, max: 1 },
  statements: { mode: 3 },
});
const oauthTarget = { ratioOf: { key: "get", factor: 0.95 }, roundTrips: 1 };

describe("ratioOf: within a factor of another row's ratio", () => {
  it.each([
    { oauth: 0.8, result: "PASS" },
    { oauth: 0.76, result: "PASS" },
    { oauth: 0.75, result: "FAIL (0.75× < 0.76× (0.95 of get))" },
  ])("get 0.80×, get-oauth $oauth× → $result", ({ oauth, result }) => {
    const table = resultsTable(10_000, [row("get", 0.8, { ratio: 0.8, roundTrips: 1 }), row("get-oauth", oauth, oauthTarget)]);
    const line = table.split("\n").find((l) => l.startsWith("| get-oauth"));
    expect(line).toContain("≥0.95× get's ratio, 1 RT");
    expect(line?.split("|").at(-2)?.trim()).toBe(result);
  });
});

describe("ratioOf with paired slices: the two rates of the same slices", () => {
  it.each([
    { paired: 1.01, oauthRatio: 0.5, result: "PASS (1.010× get, paired)" },
    { paired: 0.95, oauthRatio: 0.9, result: "PASS (0.950× get, paired)" },
    { paired: 0.94, oauthRatio: 0.9, result: "FAIL (0.940× get in paired slices < 0.95×)" },
  ])("paired $paired× → $result, whatever the rows' own ratios", ({ paired, oauthRatio, result }) => {
    const oauth = { ...row("get-oauth", oauthRatio, oauthTarget), paired: { key: "get", ratio: paired } };
    const table = resultsTable(10_000, [row("get", 0.8, { ratio: 0.8, roundTrips: 1 }), oauth]);
    const line = table.split("\n").find((l) => l.startsWith("| get-oauth"));
    expect(line?.split("|").at(-2)?.trim()).toBe(result);
  });
});
