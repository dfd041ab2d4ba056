import { expect } from "vitest";
import { ScimError } from "../../src/scim/errors";

/** Catches the ScimError a call throws (fails the test if it throws anything else or nothing). */
export function scimErrorOf(fn: () => unknown): ScimError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error("expected a ScimError");
}

/** The call throws a ScimError with this status and scimType (and a detail matching `detail`). */
export function expectScimError(fn: () => unknown, status: number, scimType: string, detail?: RegExp): void {
  const err = scimErrorOf(fn);
  expect({ status: err.status, scimType: err.scimType }).toEqual({ status, scimType });
  if (detail) expect(err.detail).toMatch(detail);
}
