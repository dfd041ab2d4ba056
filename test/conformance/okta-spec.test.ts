/**
 * Okta's SCIM 2.0 SPEC test (Runscope, CONFORMANCE §1 [OS], with the optional discovery steps
 * of the 2017 export [OS17]) and the SCIM-side assertions of Okta's CRUD test [OC], replayed in
 * order against the Worker with the same headers and variables Runscope uses.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, fetchWorker, type Json, read, SCIM_TOKEN, scim, setSettings } from "../helpers";

const suffix = Math.random().toString(36).slice(2, 10);
// Initial_Script_Spec.txt: Runscope###Xxxxxxxx###@atko.com, mixed case; the caps variant for the lookup.
const randomUsername = `Runscope${Math.floor(Math.random() * 900 + 100)}${suffix.charAt(0).toUpperCase()}${suffix.slice(1)}${Math.floor(Math.random() * 900 + 100)}@atko.com`;
const randomUsernameCaps = randomUsername.toUpperCase();
const InvalidUserEmail = "abcdefgh@atko.com";
const UserIdThatDoesNotExist = "010101001010101011001010101011";

const oktaHeaders = {
  Accept: "application/scim+json",
  "Content-Type": "application/scim+json; charset=utf-8",
  "Accept-Charset": "utf-8",
  "User-Agent": "OKTA SCIM Integration",
  Authorization: `Bearer ${SCIM_TOKEN}`,
};
// The POST steps send application/json and ask for scim+json with a charset.
const postHeaders = { ...oktaHeaders, "Content-Type": "application/json", Accept: "application/scim+json; charset=utf-8" };

/** One step with exactly Okta's headers (the Authorization among them), timed like Runscope. */
async function step(method: string, path: string, headers: Record<string, string> = oktaHeaders, body?: unknown) {
  const started = Date.now();
  const r = await read(await scim(method, path, body, { headers, token: null }));
  return { ...r, ms: Date.now() - started };
}

const notEmpty = (v: unknown) => v !== undefined && v !== null && v !== "";
const get = (obj: unknown, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>(
      (o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[/^\d+$/.test(k) ? Number(k) : k] : undefined),
      obj,
    );

let idUserOne = "";
let createdId = "";

describe("Okta SCIM 2.0 SPEC test, in order", () => {
  beforeAll(async () => {
    await setSettings();
    // Precondition from Okta's guide: at least one complete, active user exists.
    const seed = await step("POST", "/Users", postHeaders, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: `seed.${suffix}@atko.com`,
      name: { givenName: "Seed", familyName: "User" },
      emails: [{ primary: true, value: `seed.${suffix}@atko.com`, type: "work" }],
      active: true,
    });
    expect(seed.status, seed.text).toBe(201);
  });

  it("optional discovery: GET works and POST is 405 on /ServiceProviderConfig, /ResourceTypes, /Schemas", async () => {
    for (const path of ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]) {
      expect((await step("GET", path)).status).toBe(200);
      const post = await fetchWorker(`${BASE}${path}`, { method: "POST", headers: oktaHeaders, body: "test" });
      expect(post.status).toBe(405);
    }
  });

  it("steps 1-2: GET /Users?count=1&startIndex=1 → a complete first user, numeric counts", async () => {
    const r = await step("GET", "/Users?count=1&startIndex=1");
    expect(r.status, r.text).toBe(200);
    expect(typeof r.json.totalResults).toBe("number");
    expect(typeof r.json.startIndex).toBe("number");
    expect(r.json.itemsPerPage).toBe(1);
    const first = (r.json.Resources as Json[])[0];
    for (const path of ["id", "name.familyName", "name.givenName", "userName", "active", "emails.0.value"]) {
      expect(notEmpty(get(first, path)), path).toBe(true);
    }
    idUserOne = String(first?.id);
  });

  it("step 3: GET /Users/{id} → the same user", async () => {
    const r = await step("GET", `/Users/${idUserOne}`);
    expect(r.status).toBe(200);
    expect(r.json.id).toBe(idUserOne);
    for (const path of ["name.familyName", "name.givenName", "userName", "active", "emails.0.value"]) {
      expect(notEmpty(get(r.json, path)), path).toBe(true);
    }
  });

  it("step 4: GET /Users/{UserIdThatDoesNotExist} → 404 with detail", async () => {
    const r = await step("GET", `/Users/${UserIdThatDoesNotExist}`);
    expect(r.status).toBe(404);
    expect(notEmpty(r.json.detail)).toBe(true);
    expect(r.json.schemas).toContain("urn:ietf:params:scim:api:messages:2.0:Error");
  });

  it("step 5: filter userName eq an absent user → 200, totalResults 0", async () => {
    const r = await step("GET", `/Users?filter=userName%20eq%20%22${encodeURIComponent(InvalidUserEmail)}%22`);
    expect(r.status).toBe(200);
    expect(r.json.totalResults).toBe(0);
  });

  it("step 6: POST a new user → 201, active, same names, userName with its original case", async () => {
    const r = await step("POST", "/Users", postHeaders, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: randomUsername,
      name: { givenName: "Runscope", familyName: "Test" },
      emails: [{ primary: true, value: randomUsername, type: "work" }],
      active: true,
      password: "1mz050nq",
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json.active).toBe(true);
    expect(notEmpty(r.json.id)).toBe(true);
    expect(r.json.name).toMatchObject({ givenName: "Runscope", familyName: "Test" });
    expect(r.json.schemas).toContain("urn:ietf:params:scim:schemas:core:2.0:User");
    expect(r.json.userName).toBe(randomUsername);
    expect((r.json.userName as string).toLowerCase()).not.toBe(r.json.userName);
    createdId = String(r.json.id);
  });

  it("step 7: GET the new user by id", async () => {
    const r = await step("GET", `/Users/${createdId}`);
    expect(r.status).toBe(200);
    expect(r.json.userName).toBe(randomUsername);
    expect(r.json.name).toMatchObject({ givenName: "Runscope", familyName: "Test" });
  });

  it("step 8: the same POST again → 409 uniqueness with detail", async () => {
    const r = await step("POST", "/Users", postHeaders, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: randomUsername,
      name: { givenName: "Runscope", familyName: "Test" },
      emails: [{ primary: true, value: randomUsername, type: "work" }],
      active: true,
    });
    expect(r.status).toBe(409);
    expect(r.json.scimType).toBe("uniqueness");
    expect(notEmpty(r.json.detail)).toBe(true);
  });

  it("step 9: filter userName eq the upper-cased name → 200 and finds it", async () => {
    const r = await step("GET", `/Users?filter=userName%20eq%20%22${encodeURIComponent(randomUsernameCaps)}%22`);
    expect(r.status).toBe(200);
    expect(r.json.totalResults).toBe(1);
  });

  it("step 10: GET /Groups → 200 quickly; Resources is an array of the groups there are", async () => {
    const pushed = await step(
      "POST",
      "/Groups",
      { ...oktaHeaders, "Content-Type": "application/json" },
      { displayName: `Okta spec ${randomUsername}` },
    );
    expect(pushed.status, pushed.text).toBe(201);
    const r = await step("GET", "/Groups");
    expect(r.status, r.text).toBe(200);
    expect(r.json.totalResults as number).toBeGreaterThanOrEqual(1);
    expect((r.json.Resources as { id: string }[]).map((g) => g.id)).toContain(pushed.json.id);
  });

  it("step 11: a filter with Authorization: non-token → 401 with detail", async () => {
    const r = await step("GET", `/Users?filter=userName%20eq%20%22${encodeURIComponent(randomUsername)}%22`, {
      ...oktaHeaders,
      Authorization: "non-token",
    });
    expect(r.status).toBe(401);
    expect(r.json.status).toBe("401");
    expect(notEmpty(r.json.detail)).toBe(true);
  });

  it("step 12: the unknown id again → 404", async () => {
    expect((await step("GET", `/Users/${UserIdThatDoesNotExist}`)).status).toBe(404);
  });
});

describe("Okta CRUD test, SCIM-side assertions", () => {
  const email = `crud.${suffix}@atko.com`;
  const minimal = { Accept: "application/scim+json", Authorization: `Bearer ${SCIM_TOKEN}` };
  let id = "";

  const lookup = async () => {
    const r = await step("GET", `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`, minimal);
    expect(r.status).toBe(200);
    return (r.json.Resources as Json[])[0];
  };

  it("create (assign) → lookup shows userName, emails[0].value, name", async () => {
    await setSettings();
    const created = await step("POST", "/Users", postHeaders, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: email,
      name: { givenName: "Crud", familyName: "Test" },
      emails: [{ primary: true, value: email, type: "work" }],
      displayName: "Crud Test",
      active: true,
    });
    expect(created.status, created.text).toBe(201);
    const found = await lookup();
    expect(found?.userName).toBe(email);
    expect(get(found, "emails.0.value")).toBe(email);
    expect(found?.name).toMatchObject({ givenName: "Crud", familyName: "Test" });
    id = String(found?.id);
  });

  it("update firstName → GET shows it; deactivate → false; activate → true; unassign → false", async () => {
    const patch = (value: Record<string, unknown>) =>
      step("PATCH", `/Users/${id}`, oktaHeaders, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [{ op: "replace", value }],
      });
    expect((await patch({ name: { givenName: "Renamed", familyName: "Test" } })).status).toBe(200);
    expect(get((await step("GET", `/Users/${id}`, minimal)).json, "name.givenName")).toBe("Renamed");
    for (const active of [false, true, false]) {
      expect((await patch({ active })).status).toBe(200);
      expect((await step("GET", `/Users/${id}`, minimal)).json.active).toBe(active);
    }
  });
});
