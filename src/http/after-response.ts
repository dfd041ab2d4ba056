import type { Context } from "hono";

/** Work that goes on after the response (waitUntil), or now when there is no execution context. */
export function afterResponse(c: Context, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work;
  }
}
