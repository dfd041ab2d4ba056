import { describe, expect, it } from "vitest";
import { foldedAttributes, userAttributes } from "../../bench/lib/users.mjs";
import { userColumns } from "../../src/resources/user";

describe("the bench seeds rows the service would write", () => {
  it.each([0, 7, 99_999])("user %i: data_fold as src/scim/fold.ts computes it", (i) => {
    const attrs = userAttributes("U", i);
    expect(JSON.stringify(foldedAttributes(attrs))).toBe(userColumns(attrs).dataFold);
  });
});
