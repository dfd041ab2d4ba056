import { beforeAll, describe, expect, it } from "vitest";
import { createUser, expectScimError, expectStatus, type Json, json, oktaUser, scim, setSettings } from "../helpers";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const SITE = "urn:scim-edge:scim:schemas:extension:site:2.0:User";
const tag = `L${Date.now().toString(36)}`;
const names: string[] = [];
const ids: string[] = [];

async function list(query: string): Promise<Json> {
  return expectStatus(await scim("GET", `/Users?${query}`), 200);
}

const f = (filter: string) => `filter=${encodeURIComponent(filter)}`;
const userNames = (body: Json) => ((body.Resources as Json[]) ?? []).map((r) => r.userName as string).sort();

describe("Users: list, paging, filters", () => {
  beforeAll(async () => {
    await setSettings();
    const specs: { userName: string; extra: Record<string, unknown> }[] = [
      {
        userName: `alice.${tag}@example.com`,
        extra: { userType: "Employee", title: "Eng", [ENTERPRISE]: { employeeNumber: "100", department: "R&D" } },
      },
      {
        userName: `bob.${tag}@example.org`,
        extra: { userType: "Contractor", active: false, emails: [{ value: `bob.${tag}@example.org`, type: "home" }] },
      },
      { userName: `carol.${tag}@example.com`, extra: { userType: "Employee", name: { givenName: "Carol", familyName: "Employee" } } },
      { userName: `dave_100%.${tag}@example.net`, extra: { title: "50% off" } },
      { userName: `Ærø.${tag}@example.com`, extra: {} },
    ];
    for (const { userName, extra } of specs) {
      const u = await createUser(oktaUser(userName, { externalId: `ext-${userName}`, ...extra }));
      names.push(userName);
      ids.push(u.id as string);
    }
  });

  it("ListResponse shape with integer numbers; itemsPerPage = Resources.length", async () => {
    const body = await list(`count=2&startIndex=1&${f(`userName co "${tag}"`)}`);
    expect(body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
    expect(body.totalResults).toBe(5);
    expect(body.startIndex).toBe(1);
    expect(body.itemsPerPage).toBe(2);
    expect((body.Resources as unknown[]).length).toBe(2);
  });

  it("paging: stable order, no overlap, past the end is an empty page", async () => {
    const q = f(`userName co "${tag}"`);
    const pages = await Promise.all([1, 3, 5, 7].map((s) => list(`${q}&startIndex=${s}&count=2`)));
    const seen = pages.flatMap((p) => (p.Resources as Json[]).map((r) => r.id as string));
    expect(seen).toEqual(ids);
    expect(pages[3]?.itemsPerPage).toBe(0);
    expect(pages[3]?.Resources).toEqual([]);
    expect(pages[3]?.totalResults).toBe(5);
  });

  it("count=0 gives totalResults only; negative count is 0; startIndex below 1 is 1; bad startIndex is 400", async () => {
    const zero = await list(`count=0&${f(`userName co "${tag}"`)}`);
    expect(zero.totalResults).toBe(5);
    expect(zero.itemsPerPage).toBe(0);
    expect((await list(`count=-1&${f(`userName co "${tag}"`)}`)).itemsPerPage).toBe(0);
    const low = await list(`startIndex=-1&count=2&${f(`userName co "${tag}"`)}`);
    expect(low.startIndex).toBe(1);
    expect(low.itemsPerPage).toBe(2);
    await expectScimError(await scim("GET", "/Users?startIndex=abc"), 400, "invalidValue");
  });

  it("Okta lookup: userName eq is exact and case-insensitive (incl. non-ASCII); absent → empty 200", async () => {
    const alice = names[0] as string;
    expect(userNames(await list(f(`userName eq "${alice.toUpperCase()}"`)))).toEqual([alice]);
    expect(userNames(await list(f(`userName eq "ærø.${tag}@EXAMPLE.COM"`)))).toEqual([names[4]]);
    const none = await list(`${f('userName eq "abcdefgh@atko.com"')}&startIndex=1&count=100`);
    expect(none).toMatchObject({ totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
  });

  it("Entra lookups: externalId eq (case-exact), emails[type eq work].value eq, and", async () => {
    const alice = names[0] as string;
    expect(userNames(await list(f(`externalId eq "ext-${alice}"`)))).toEqual([alice]);
    expect(userNames(await list(f(`externalId eq "EXT-${alice}"`)))).toEqual([]);
    expect(userNames(await list(f(`emails[type eq "work"].value eq "${alice}"`)))).toEqual([alice]);
    expect(userNames(await list(f(`userName eq "${alice}" and active eq true`)))).toEqual([alice]);
    expect(userNames(await list(f(`externalId eq "${crypto.randomUUID()}"`)))).toEqual([]);
  });

  it("operators, precedence, not, value paths, URN attributes, literal % and _", async () => {
    const q = (filter: string) => list(f(`userName co "${tag}" and (${filter})`));
    expect(userNames(await q("active eq false"))).toEqual([names[1]]);
    expect(userNames(await q('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")'))).toEqual(
      [names[0], names[2]].sort(),
    );
    expect(userNames(await q(`name.FamilyName eq Employee`))).toEqual([names[2]]);
    expect(userNames(await q(`not (userType pr)`))).toEqual([names[3], names[4]].sort());
    expect(userNames(await q(`${ENTERPRISE}:department eq "R&D"`))).toEqual([names[0]]);
    expect(userNames(await q('title co "%"'))).toEqual([names[3]]);
    expect(userNames(await q('userName co "_100%"'))).toEqual([names[3]]);
    expect(userNames(await q('userName sw "ALICE"'))).toEqual([names[0]]);
    expect(userNames(await q('userName ew "example.org"'))).toEqual([names[1]]);
    expect(userNames(await q('emails[type eq "home" and value co "bob"]'))).toEqual([names[1]]);
    expect(userNames(await q('meta.lastModified gt "2011-05-13T04:42:34Z"'))).toHaveLength(5);
    expect(userNames(await q("meta.created gt 2015-10-10T14:38:21.8617979-07:00"))).toHaveLength(5);
    expect(userNames(await q(`USERNAME EQ "${names[0]}"`))).toEqual([names[0]]);
  });

  it("bad filters are 400 invalidFilter", async () => {
    for (const filter of [
      "userName eq",
      'userName ssw "x"',
      '(userName eq "x"',
      'userName eq "unterminated',
      "active gt true",
      "",
      'foo eq "x"',
    ]) {
      await expectScimError(await scim("GET", `/Users?${f(filter)}`), 400, "invalidFilter");
    }
    await expectScimError(await scim("GET", `/Users?${f(`${"(".repeat(100)}userName eq "x"${")".repeat(100)}`)}`), 400, "invalidFilter");
  });

  it("sortBy / sortOrder; bad sortOrder is 400 invalidValue", async () => {
    const desc = await list(`${f(`userName co "${tag}"`)}&sortBy=userName&sortOrder=descending`);
    const got = (desc.Resources as Json[]).map((r) => (r.userName as string).toLowerCase());
    expect(got).toEqual([...got].sort().reverse());
    await expectScimError(await scim("GET", "/Users?sortBy=userName&sortOrder=sideways"), 400, "invalidValue");
  });

  it("attributes and excludedAttributes on list and by id", async () => {
    const body = await list(`${f(`userName eq "${names[0] as string}"`)}&attributes=userName,name.givenName`);
    expect(body.Resources).toEqual([{ schemas: expect.any(Array), id: ids[0], userName: names[0], name: { givenName: "Test" } }]);
    const ex = await expectStatus(await scim("GET", `/Users/${ids[0] as string}?excludedAttributes=name.givenName,emails,id`), 200);
    expect(ex.id).toBe(ids[0]);
    expect(ex).not.toHaveProperty("emails");
    expect(ex.name).toEqual({ familyName: "User" });
    const urn = await expectStatus(await scim("GET", `/Users/${ids[0] as string}?attributes=${ENTERPRISE}:employeeNumber`), 200);
    expect(urn[ENTERPRISE]).toEqual({ employeeNumber: "100" });
  });

  it("projection is consistent: only unknown names give id and schemas; schemas lists what is present", async () => {
    const id = ids[0] as string;
    const unknown = await expectStatus(await scim("GET", `/Users/${id}?attributes=shoeSize,hatSize`), 200);
    expect(unknown).toEqual({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], id });
    const listed = await list(`${f(`userName eq "${names[0] as string}"`)}&attributes=shoeSize`);
    expect(listed.Resources).toEqual([{ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], id }]);
    // The enterprise schema is listed only while its attributes are in the answer.
    const core = await expectStatus(await scim("GET", `/Users/${id}?attributes=userName`), 200);
    expect(core.schemas).toEqual(["urn:ietf:params:scim:schemas:core:2.0:User"]);
    const ext = await expectStatus(await scim("GET", `/Users/${id}?attributes=${ENTERPRISE}:employeeNumber`), 200);
    expect(ext.schemas).toEqual(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    const excluded = await expectStatus(await scim("GET", `/Users/${id}?excludedAttributes=${ENTERPRISE}`), 200);
    // The site extension (the effective role) is on every user unless it is excluded too.
    expect(excluded.schemas).toEqual(["urn:ietf:params:scim:schemas:core:2.0:User", SITE]);
    expect(excluded).not.toHaveProperty(ENTERPRISE);
    const whole = await expectStatus(await scim("GET", `/Users/${id}`), 200);
    const onlyExt = await expectStatus(await scim("GET", `/Users/${id}?attributes=${ENTERPRISE}`), 200);
    expect(onlyExt).toEqual({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], id, [ENTERPRISE]: whole[ENTERPRISE] });
    expect(whole.schemas).toEqual(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, SITE]);
    // CONFORMANCE 96 (Microsoft's collection): a [filter] in attributes is ignored, the attribute returned.
    const lenient = await expectStatus(await scim("GET", `/Users/${id}?attributes=${encodeURIComponent('emails[type eq "nope"]')}`), 200);
    expect(lenient).toEqual({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], id, emails: whole.emails });
  });

  it("POST /Users/.search equals GET; count 0; bad filter 400", async () => {
    const res = await expectStatus(
      await scim("POST", "/Users/.search", {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        attributes: ["name.familyName", "userName"],
        filter: `userName sw "alice.${tag}"`,
        startIndex: 1,
        count: 10,
      }),
      200,
    );
    expect(res.totalResults).toBe(1);
    expect(res.Resources).toEqual([{ schemas: expect.any(Array), id: ids[0], userName: names[0], name: { familyName: "User" } }]);
    expect((await expectStatus(await scim("POST", "/Users/.search", { count: 0 }), 200)).itemsPerPage).toBe(0);
    await expectScimError(await scim("POST", "/Users/.search", { filter: "userName ssw login" }), 400, "invalidFilter");
  });

  it("trailing slash and + for spaces in the query", async () => {
    const body = await json(await scim("GET", `/Users/?filter=userName+eq+%22${encodeURIComponent(names[0] as string)}%22`));
    expect(userNames(body)).toEqual([names[0]]);
  });
});

describe("Users: long co, sw and ew values answer 200 with the matching user", () => {
  const t = `Long${Date.now().toString(36)}`;
  const userName = `maximilian-alexander.von-hohenzollern-sigmaringen.${t}.platform-engineering@corp.example.com`;
  const displayName = `Maximilian Alexander von Hohenzollern-Sigmaringen ${t}, Platform Engineering Lead`;
  // Near the filter length limit (MAX_FILTER_LENGTH, 4,096 characters for the whole filter).
  const longTitle = `${t} ${"Principal Staff Engineer, Identity and Access Platform; ".repeat(74)}`;
  let id = "";

  beforeAll(async () => {
    await setSettings();
    const u = await createUser(
      oktaUser(userName, { displayName, title: longTitle, name: { givenName: displayName, familyName: "Hohenzollern" } }),
    );
    id = u.id as string;
  });

  const rows: { name: string; filter: () => string }[] = [
    { name: "userName co (indexed)", filter: () => `userName co "${userName.slice(10, 90)}"` },
    { name: "userName sw, in another case", filter: () => `userName sw "${userName.slice(0, 80).toUpperCase()}"` },
    { name: "userName ew", filter: () => `userName ew "${userName.slice(-80)}"` },
    { name: "emails.value co", filter: () => `emails.value co "${userName.slice(5, 85)}"` },
    { name: "email (Okta's alias) sw", filter: () => `email sw "${userName.slice(0, 80)}"` },
    { name: "displayName co, in another case", filter: () => `displayName co "${displayName.slice(2, 82).toLowerCase()}"` },
    { name: "name.givenName ew", filter: () => `name.givenName ew "${displayName.slice(-80)}"` },
    { name: "title co (not indexed: a scan)", filter: () => `title co "${longTitle.slice(0, 80)}"` },
  ];
  it.each(rows)("80 characters, $name", async ({ filter }) => {
    const text = filter();
    expect(/"(.*)"/.exec(text)?.[1]).toHaveLength(80);
    const body = await list(f(text));
    expect(body.totalResults, JSON.stringify(body)).toBe(1);
    expect((body.Resources as Json[]).map((r) => r.id)).toEqual([id]);
  });

  it("the same through POST /Users/.search", async () => {
    const res = await expectStatus(await scim("POST", "/Users/.search", { filter: `userName co "${userName.slice(10, 90)}"` }), 200);
    expect((res.Resources as Json[]).map((r) => r.id)).toEqual([id]);
  });

  it("a value as long as the filter length limit allows is 200 (matching or not); one character more is 400", async () => {
    const room = 4096 - 'title co ""'.length;
    const match = await list(f(`title co "${longTitle.slice(0, room)}"`));
    expect((match.Resources as Json[]).map((r) => r.id)).toEqual([id]);
    const none = await list(f(`displayName co "${"x".repeat(4096 - 'displayName co ""'.length)}"`));
    expect(none.totalResults).toBe(0);
    await expectScimError(await scim("GET", `/Users?${f(`title co "${longTitle.slice(0, room + 1)}"`)}`), 400, "invalidFilter");
  });
});
