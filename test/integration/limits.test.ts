import { beforeAll, describe, expect, it } from "vitest";
import { createUser, expectScimError, expectStatus, type Json, oktaUser, ops, scim, setSettings, uniqueName } from "../helpers";

/**
 * Work that grows with the request, never faster, and limits that answer 400 with their number
 * instead of a 500 from D1: a filter's comparisons (D1's expression depth and statement length),
 * a PATCH's operations and value-filter comparisons, Bulk's order with 1,000 operations.
 */
beforeAll(async () => {
  await setSettings();
});

const list = (filter: string) => scim("GET", `/Users?count=1&filter=${encodeURIComponent(filter)}`);
const chain = (n: number, term = "title pr") => Array.from({ length: n }, () => term).join(" or ");

describe("a long flat and/or chain", () => {
  it.each([46, 60, 100])("of %i `title pr` terms answers 200 with the same total as one", async (n) => {
    const one = await expectStatus(await list("title pr"), 200);
    const many = await expectStatus(await list(chain(n)), 200);
    expect(many.totalResults).toBe(one.totalResults);
    const and = await expectStatus(await list(Array.from({ length: n }, () => "title pr").join(" and ")), 200);
    expect(and.totalResults).toBe(one.totalResults);
  });

  it("of 100 of the largest comparison (an enterprise attribute, negated) answers 200", async () => {
    await expectStatus(await list(chain(100, "not (department pr)")), 200);
  });

  it.each([101, 340])("of %i terms is 400 invalidFilter naming the limit", async (n) => {
    const err = await expectScimError(await list(chain(n)), 400, "invalidFilter");
    expect(err.detail).toContain(`${n} attribute comparisons; at most 100`);
  });
});

describe("by cursor, in an order read from JSON, a filter at its limits pages to the end", () => {
  // A cursor page adds its keyset condition (the sort value and seq of the page's edge) and the
  // sort expression, several times, around the filter: the filter's own limits leave room for them.
  const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  const walk = async (filter: string, sortBy: string) => {
    const seen: string[] = [];
    let cursor = "";
    for (let n = 0; n < 10; n++) {
      const query = `/Users?count=1&sortBy=${encodeURIComponent(sortBy)}&sortOrder=descending&filter=${encodeURIComponent(filter)}&cursor=${cursor}`;
      const page = await expectStatus(await scim("GET", query), 200);
      seen.push(...(page.Resources as Json[]).map((r) => String(r.id)));
      if (typeof page.nextCursor !== "string") return seen;
      cursor = page.nextCursor;
    }
    throw new Error("the walk did not end");
  };

  it.each(["emails.value", `${ENT}:employeeNumber`])(
    "sorted by %s: 80 bound values, and 100 negated enterprise comparisons",
    async (sortBy) => {
      const title = `limits-${crypto.randomUUID().slice(0, 8)}`;
      const made: string[] = [];
      for (let k = 0; k < 3; k++)
        made.push((await createUser(oktaUser(uniqueName("lim"), { title, [ENT]: { employeeNumber: `e${k}` } }))).id as string);
      // 80 values: the title and 79 ids that match nobody.
      const values = [`title eq "${title}"`, ...Array.from({ length: 79 }, (_, i) => `id eq "none-${i}"`)].join(" or ");
      expect(new Set(await walk(values, sortBy))).toEqual(new Set(made));
      // 100 comparisons: the title and 99 of the largest one.
      const comparisons = `title eq "${title}" and (${chain(99, "not (department pr)")})`;
      expect(new Set(await walk(comparisons, sortBy))).toEqual(new Set(made));
    },
  );
});

describe("PATCH", () => {
  let user: Json;
  beforeAll(async () => {
    const emails = Array.from({ length: 100 }, (_, i) => ({ value: `e${i}@x.example`, type: i % 2 ? "work" : "home" }));
    user = await createUser(oktaUser(uniqueName("Limits"), { emails }));
  });

  it("of 1,000 operations applies; 1,001 is 400 naming the limit and changes nothing", async () => {
    const set = (n: number, title: string) => Array.from({ length: n }, () => ({ op: "replace", path: "title", value: title }));
    const ok = await expectStatus(await scim("PATCH", `/Users/${user.id as string}`, ops(...set(1000, "Thousand"))), 200);
    expect(ok.title).toBe("Thousand");
    const err = await expectScimError(await scim("PATCH", `/Users/${user.id as string}`, ops(...set(1001, "More"))), 400, "invalidValue");
    expect(err.detail).toContain("1001 operations; at most 1000");
    expect((await expectStatus(await scim("GET", `/Users/${user.id as string}`), 200)).title).toBe("Thousand");
  });

  it("of 13,164 filtered operations on 100 emails (1 MiB) is refused at once", async () => {
    const op = { op: "replace", path: 'emails[type eq "work"].type', value: "work" };
    const err = await expectScimError(
      await scim("PATCH", `/Users/${user.id as string}`, ops(...Array.from({ length: 13_164 }, () => op))),
      400,
    );
    expect(err.detail).toContain("at most 1000");
  });

  it("whose value filters hold more than 1,000 comparisons in all is 400", async () => {
    const filter = Array.from({ length: 11 }, () => 'type eq "work"').join(" or ");
    const op = { op: "replace", path: `emails[${filter}].type`, value: "work" };
    await expectStatus(await scim("PATCH", `/Users/${user.id as string}`, ops(...Array.from({ length: 90 }, () => op))), 200);
    const err = await expectScimError(
      await scim("PATCH", `/Users/${user.id as string}`, ops(...Array.from({ length: 91 }, () => op))),
      400,
      "invalidPath",
    );
    expect(err.detail).toContain("more than 1000 attribute comparisons");
  });
});

describe("Bulk with 1,000 operations", () => {
  it("runs them in order, each that refers to a later POST after it, and answers for every one", async () => {
    // 998 failing PATCHes, then a PATCH and a POST that must run before it (it refers to the POST).
    const Operations: Json[] = Array.from({ length: 998 }, (_, i) => ({
      method: "PATCH",
      path: `/Users/missing-${i}`,
      data: { Operations: [{ op: "replace", path: "title", value: "x".repeat(500) }] },
    }));
    Operations.push({
      method: "PATCH",
      path: "/Users/bulkId:late",
      data: { Operations: [{ op: "replace", path: "title", value: "after" }] },
    });
    Operations.push({ method: "POST", path: "/Users", bulkId: "late", data: { userName: uniqueName("Late") } });
    const res = await expectStatus(
      await scim("POST", "/Bulk", { schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations }),
      200,
    );
    const answers = res.Operations as Json[];
    expect(answers).toHaveLength(1000);
    expect(answers.slice(0, 998).every((a) => a.status === "404")).toBe(true);
    expect(answers[998]?.status).toBe("200");
    expect(answers[999]?.status).toBe("201");
    const created = String(answers[999]?.location).split("/").pop() ?? "";
    expect((await expectStatus(await scim("GET", `/Users/${created}`), 200)).title).toBe("after");
  }, 60_000);
});
