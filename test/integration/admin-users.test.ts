import { beforeAll, describe, expect, it } from "vitest";
import { admin, createUser, expectStatus, oktaUser, SCIM_TOKEN, scim, setSettings } from "../helpers";

/** GET /admin/api/users (people, not UUIDs), the timeline by userName or email, and log search by them. */

interface UserItem {
  id: string;
  userName: string;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  externalId: string | null;
  active: boolean;
  role: string;
}

async function search(query: Record<string, string>): Promise<{ users: UserItem[]; nextCursor: string | null }> {
  const body = await expectStatus(await admin("GET", `/users?${new URLSearchParams(query)}`), 200);
  return body as unknown as { users: UserItem[]; nextCursor: string | null };
}

const tag = crypto.randomUUID().slice(0, 8);
let carol: UserItem;

beforeAll(async () => {
  await setSettings();
  const created = await createUser(
    oktaUser(`carol.${tag}@Example.com`, {
      name: { givenName: "Carolína", familyName: `Quartz${tag}`, formatted: `Carolína Quartz${tag}` },
      displayName: `Carol Q ${tag}`,
      externalId: `00u-carol-${tag}`,
      emails: [
        { value: `carol.${tag}@Example.com`, type: "work", primary: true },
        { value: `cq.${tag}@home.example`, type: "home" },
      ],
    }),
  );
  const found = (await search({ q: `carol.${tag}` })).users.find((u) => u.id === created.id);
  if (!found) throw new Error("the new user is not found by its userName");
  carol = found;
});

describe("GET /admin/api/users", () => {
  const finds = [
    { name: "the userName, in another case", q: () => `CAROL.${tag}@example.COM` },
    { name: "part of the userName", q: () => `rol.${tag}` },
    { name: "a secondary email", q: () => `cq.${tag}@HOME` },
    { name: "the given name (non-ASCII, as written)", q: () => "Carolína" },
    { name: "the family name", q: () => `quartz${tag}` },
    { name: "the displayName", q: () => `carol q ${tag}` },
    { name: "the externalId", q: () => `00U-CAROL-${tag}` },
  ];
  for (const f of finds) {
    it(`finds a user by ${f.name}`, async () => {
      const { users } = await search({ q: f.q() });
      expect(users.map((u) => u.id)).toContain(carol.id);
    });
  }

  it("shows the userName, name, primary email as sent, status, role and externalId", () => {
    expect(carol).toMatchObject({
      userName: `carol.${tag}@Example.com`,
      displayName: `Carol Q ${tag}`,
      givenName: "Carolína",
      familyName: `Quartz${tag}`,
      email: `carol.${tag}@Example.com`,
      externalId: `00u-carol-${tag}`,
      active: true,
      role: "registered",
    });
  });

  it("answers a 200-character search with 200 (instr, not a LIKE pattern D1 would refuse), and % and _ literally", async () => {
    expect((await search({ q: "x".repeat(200) })).users).toEqual([]);
    expect((await search({ q: `%${"_".repeat(60)}%` })).users).toEqual([]);
  });

  it("pages newest first with limit and cursor", async () => {
    const prefix = `pager${tag}`;
    for (let i = 0; i < 3; i++) await createUser(oktaUser(`${prefix}.${i}@example.com`));
    const first = await search({ q: prefix, limit: "2" });
    expect(first.users.map((u) => u.userName)).toEqual([`${prefix}.2@example.com`, `${prefix}.1@example.com`]);
    const second = await search({ q: prefix, limit: "2", cursor: first.nextCursor ?? "" });
    expect(second.users.map((u) => u.userName)).toEqual([`${prefix}.0@example.com`]);
    expect(second.nextCursor).toBeNull();
  });

  const bad = [
    { name: "a limit of 0", query: "limit=0" },
    { name: "a huge limit", query: "limit=100000" },
    { name: "a limit that is not a number", query: "limit=all" },
    { name: "a cursor that is not one", query: "cursor=abc" },
    { name: "a search over 200 characters", query: `q=${"x".repeat(201)}` },
    { name: "an unknown parameter", query: "sort=userName" },
    { name: "a parameter given twice", query: "limit=1&limit=2" },
  ];
  for (const b of bad) {
    it(`answers ${b.name} with 400 {error, detail}`, async () => {
      const body = await expectStatus(await admin("GET", `/users?${b.query}`), 400);
      expect(body.error).toBe("invalid_query");
      expect(String(body.detail).length).toBeGreaterThan(5);
    });
  }

  it("is 401 without the admin token and with the SCIM token", async () => {
    for (const token of [null, SCIM_TOKEN]) expect((await admin("GET", "/users", undefined, token)).status).toBe(401);
  });
});

describe("the timeline by userName or email", () => {
  for (const key of [() => `carol.${tag}@example.com`, () => `CAROL.${tag}@EXAMPLE.COM`]) {
    it(`resolves ${key()} to the user's id`, async () => {
      const t = await expectStatus(await admin("GET", `/users/${encodeURIComponent(key())}/timeline`), 200);
      expect(t).toMatchObject({ userId: carol.id, found: true, matchedBy: "userName" });
      expect((t.items as { kind: string; method?: string }[]).some((i) => i.kind === "request" && i.method === "POST")).toBe(true);
    });
  }

  it("resolves a primary email that is not the userName", async () => {
    const user = await createUser(oktaUser(`erin${tag}`, { emails: [{ value: `Erin.${tag}@Example.org`, primary: true }] }));
    const t = await expectStatus(await admin("GET", `/users/${encodeURIComponent(`erin.${tag}@example.org`)}/timeline`), 200);
    expect(t).toMatchObject({ userId: user.id, found: true, matchedBy: "email" });
    expect((t.user as UserItem).email).toBe(`Erin.${tag}@Example.org`);
  });

  it("an id still works, and says so", async () => {
    const t = await expectStatus(await admin("GET", `/users/${carol.id}/timeline`), 200);
    expect(t).toMatchObject({ userId: carol.id, matchedBy: "id" });
  });
});

describe("log search and names in the log", () => {
  it("finds a user's requests by userName or email, and each row names the user", async () => {
    const user = await createUser(oktaUser(`frank.${tag}@example.com`, { displayName: "Frank F" }));
    expect((await scim("GET", `/Users/${user.id}`)).status).toBe(200);
    for (const q of [`FRANK.${tag}`, `frank.${tag}@example.com`]) {
      const page = await expectStatus(await admin("GET", `/log?q=${encodeURIComponent(q)}`), 200);
      const rows = page.entries as { resourceId: string; resourceName: string; resourceDisplayName: string; resourceEmail: string }[];
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.resourceId === user.id)).toBe(true);
      expect(rows[0]).toMatchObject({
        resourceName: `frank.${tag}@example.com`,
        resourceDisplayName: "Frank F",
        resourceEmail: `frank.${tag}@example.com`,
      });
    }
  });

  it("answers a 200-character log search with 200, never D1's 500 for a long LIKE pattern", async () => {
    const page = await expectStatus(await admin("GET", `/log?q=${"%_".repeat(100)}`), 200);
    expect(page.entries).toEqual([]);
  });

  it("finds admin actions by actor", async () => {
    await expectStatus(await admin("PUT", "/settings", { dryRun: false }), 200);
    const page = await expectStatus(await admin("GET", "/log?q=ADMIN%20TOKEN&limit=5"), 200);
    expect((page.entries as { actor: string }[]).some((e) => e.actor === "admin token")).toBe(true);
  });

  it("events carry the name of the user they are about", async () => {
    const user = await createUser(oktaUser(`gina.${tag}@example.com`));
    const page = await expectStatus(await admin("GET", `/events?resourceId=${user.id}`), 200);
    const [event] = page.events as { resourceName: string; resourceEmail: string }[];
    expect(event).toMatchObject({ resourceName: `gina.${tag}@example.com`, resourceEmail: `gina.${tag}@example.com` });
  });
});

describe("look-alike userNames are marked, with the reason, in the admin's user search", () => {
  const look = `lk${crypto.randomUUID().slice(0, 8)}`;
  const warningsOf = async (userName: string, q = look): Promise<string[]> => {
    const { users } = await search({ q });
    const found = users.find((u) => u.userName === userName) as (UserItem & { warnings?: string[] }) | undefined;
    if (!found) throw new Error(`${userName} not in the search`);
    return found.warnings ?? [];
  };

  it("a Cyrillic look-alike names the user it can pass for; the original is unmarked", async () => {
    const latin = `bob.${look}@example.com`;
    const cyrillic = `b\u043Eb.${look}@example.com`;
    await createUser({ userName: latin });
    await createUser({ userName: cyrillic });
    expect(await warningsOf(latin)).toEqual([]);
    const warnings = await warningsOf(cyrillic);
    expect(warnings.join("\n")).toContain("mixes Latin and Cyrillic letters");
    expect(warnings.join("\n")).toContain(`looks like the userName of another user: ${latin}`);
  });

  it("invisible characters are named by code point", async () => {
    const joined = `ann\u200Da.${look}@example.com`;
    await createUser({ userName: joined });
    expect((await warningsOf(joined)).join("\n")).toContain("invisible characters (U+200D)");
  });

  it("names of one script, and Latin with Japanese, are ordinary", async () => {
    const digits = String(Date.now());
    const cyrillic = `иван.${digits}@пример.рф`;
    await createUser({ userName: cyrillic });
    expect(await warningsOf(cyrillic, digits)).toEqual([]);
    const japanese = `山田taro.${look}@example.jp`;
    await createUser({ userName: japanese });
    expect(await warningsOf(japanese)).toEqual([]);
  });
});
