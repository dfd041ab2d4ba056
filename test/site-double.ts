import { afterEach, beforeEach, expect, vi } from "vitest";
import { schemaProblems } from "./event-schemas";

export interface Captured {
  headers: Record<string, string>;
  body: string;
}

/**
 * Bodies delivered in this test file that do not validate against the published schema of their
 * type (test/event-schemas.ts). Every stand-in site passes what it receives to `checkDelivery`;
 * each test fails at its end if one did not validate, so every test that delivers an event checks
 * its payload against the contract.
 */
const violations: string[] = [];

/** Records whether one delivered body validates against its type's schema (asserted after each test). */
export function checkDelivery(body: string): void {
  for (const problem of schemaProblems(body)) violations.push(`${problem}\n  in ${body.slice(0, 300)}`);
}

afterEach(() => {
  const found = violations.splice(0);
  expect(found, "delivered bodies that do not match the published schema of their type").toEqual([]);
});

/**
 * The main site, the one test double of the event tests (D1 and the queue are real): for each
 * test it records every delivery to `site`, checks its body against the schema of its type, and
 * answers 204; any other outbound fetch fails.
 */
export function acceptingSite(site: string): Captured[] {
  const calls: Captured[] = [];
  beforeEach(() => {
    calls.length = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input, init);
      if (req.url !== site) throw new Error(`unexpected outbound fetch to ${req.url}`);
      const body = await req.text();
      checkDelivery(body);
      calls.push({ headers: Object.fromEntries(req.headers), body });
      return new Response(null, { status: 204 });
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return calls;
}
