import { beforeAll, describe, expect, it } from "vitest";
import { renderGroup } from "../../src/resources/group";
import { JsonText, withMembersText } from "../../src/scim/json-text";
import { BASE, createUser, expectStatus, type Json, oktaUser, scim, setSettings, uniqueName } from "../helpers";

/**
 * A group's members reach the answer as the JSON text SQLite builds (src/db/groups.ts), spliced
 * into the group's text: it must be exactly what rendering them as objects gives, for any display
 * name, in the answer of GET by id, a list, a cursor page and a write.
 */
const NAMES = ['Quote " and \\ backslash', "Ünïcødé — 𝔘 😀", "tab\tnew\nline", "</script><b>", "  spaced  "];

describe("members as text", () => {
  let gid = "";
  const members: { value: string; display: string }[] = [];

  beforeAll(async () => {
    await setSettings();
    for (const displayName of NAMES) {
      const u = await createUser(oktaUser(uniqueName("Txt"), { displayName }));
      members.push({ value: u.id as string, display: displayName });
    }
    const noDisplay = await createUser(oktaUser(uniqueName("Bare"), { displayName: undefined }));
    members.push({ value: noDisplay.id as string, display: noDisplay.userName as string });
    gid = (
      await expectStatus(
        await scim("POST", "/Groups", { displayName: uniqueName("Text group"), members: members.map(({ value }) => ({ value })) }),
        201,
      )
    ).id as string;
  });

  // Members added in one request share their time and are listed by id.
  const byValue = <T extends { value: string }>(list: T[]) => [...list].sort((a, b) => (a.value < b.value ? -1 : 1));
  const expected = () => byValue(members.map(({ value, display }) => ({ value, $ref: `${BASE}/Users/${value}`, display, type: "User" })));

  it("GET by id, a list page, a cursor page and a write's answer carry them exactly", async () => {
    const one = await expectStatus(await scim("GET", `/Groups/${gid}`), 200);
    expect(one.members).toEqual(expected());
    expect(Object.keys(one)).toEqual(["schemas", "id", "displayName", "members", "meta"]);
    const filter = encodeURIComponent(`id eq "${gid}"`);
    expect(((await expectStatus(await scim("GET", `/Groups?filter=${filter}`), 200)).Resources as Json[])[0]?.members).toEqual(expected());
    expect(((await expectStatus(await scim("GET", `/Groups?filter=${filter}&cursor=`), 200)).Resources as Json[])[0]?.members).toEqual(
      expected(),
    );
    const patched = await expectStatus(
      await scim("PATCH", `/Groups/${gid}?attributes=members`, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [],
      }),
      200,
    );
    expect(patched).toEqual({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], id: gid, members: expected() });
  });

  it("a projection of members' sub-attributes picks from them", async () => {
    const picked = await expectStatus(await scim("GET", `/Groups/${gid}?attributes=members.value`), 200);
    expect(picked.members).toEqual(byValue(members).map(({ value }) => ({ value })));
    const dropped = await expectStatus(await scim("GET", `/Groups/${gid}?excludedAttributes=members.$ref,meta`), 200);
    expect(dropped.members).toEqual(expected().map(({ $ref: _, ...m }) => m));
    expect(dropped).not.toHaveProperty("meta");
  });

  it("withMembersText splices into the text what renderGroup gives as objects; no members stay absent", () => {
    const state = {
      id: "g1",
      data: { displayName: "G" },
      version: 3,
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-02T00:00:00.000Z",
    };
    const refs = [{ value: "u1", display: 'a "b"' }];
    const json = JSON.stringify(refs.map((m) => ({ value: m.value, $ref: `${BASE}/Users/${m.value}`, display: m.display, type: "User" })));
    const text = withMembersText(renderGroup(state, BASE), json);
    expect(text).toBeInstanceOf(JsonText);
    expect(JSON.parse((text as JsonText).text)).toEqual(renderGroup(state, BASE, refs));
    expect(withMembersText(renderGroup(state, BASE), "[]")).toEqual(renderGroup(state, BASE));
  });
});
