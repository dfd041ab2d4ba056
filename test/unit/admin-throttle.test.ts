import { describe, expect, it } from "vitest";
import { SignInThrottle } from "../../src/admin/throttle";

const T0 = Date.parse("2026-05-01T12:00:00Z");

describe("SignInThrottle (refused admin sign-ins per client address)", () => {
  it("lets a client fail `max` times, then refuses it until the window it started is over", () => {
    const t = new SignInThrottle(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfter("a", T0 + i)).toBe(0);
      t.failed("a", T0 + i);
    }
    expect(t.retryAfter("a", T0 + 1_000)).toBe(59);
    expect(t.retryAfter("a", T0 + 59_999)).toBe(1);
    expect(t.retryAfter("a", T0 + 60_000)).toBe(0);
    t.failed("a", T0 + 60_000);
    expect(t.retryAfter("a", T0 + 60_001)).toBe(0);
  });

  it("keeps clients apart", () => {
    const t = new SignInThrottle(1, 60_000);
    t.failed("a", T0);
    expect(t.retryAfter("a", T0)).toBeGreaterThan(0);
    expect(t.retryAfter("b", T0)).toBe(0);
  });

  it("forgets the oldest client first when it tracks too many", () => {
    const t = new SignInThrottle(1, 60_000, 2);
    t.failed("a", T0);
    t.failed("b", T0);
    t.failed("c", T0);
    expect(t.retryAfter("a", T0)).toBe(0);
    expect(t.retryAfter("b", T0)).toBeGreaterThan(0);
    expect(t.retryAfter("c", T0)).toBeGreaterThan(0);
  });
});
