import { afterEach, beforeEach, vi } from "vitest";

export interface Captured {
  headers: Record<string, string>;
  body: string;
}

/**
 * The main site, the one test double of the event tests (D1 and the queue are real): for each
 * test it records every delivery to `site` and answers 204; any other outbound fetch fails.
 */
export function acceptingSite(site: string): Captured[] {
  const calls: Captured[] = [];
  beforeEach(() => {
    calls.length = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input, init);
      if (req.url !== site) throw new Error(`unexpected outbound fetch to ${req.url}`);
      calls.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response(null, { status: 204 });
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return calls;
}
