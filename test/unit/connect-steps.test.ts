import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { ENTRA, OKTA, pieces, providerMarkdown, withProviders } from "../../src/admin/ui/connect-steps";

/** The Connect page and the README give the same steps: the README's sections are generated from the page's. */
describe("Connect steps: one source for the page and the README", () => {
  it("the README's Connect Okta and Connect Microsoft Entra ID sections are the page's steps (npm run readme:generate)", () => {
    expect(withProviders(readme), "README.md is out of date: run npm run readme:generate").toBe(readme);
  });

  it("both give Okta's Push Groups, the userType expression, Okta's entitlements and Entra's app-role mapping to roles", () => {
    const okta = providerMarkdown(OKTA);
    const entra = providerMarkdown(ENTRA);
    expect(okta).toContain("**Push Groups → Push Groups → Find groups by name**");
    expect(okta).toContain('isMemberOfGroupName("Site Admins") ? "Admin"');
    expect(okta).toContain("**SCIM Entitlement Management**");
    expect(entra).toContain("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])");
    expect(entra).toContain("https://<worker host>/api/scim/v2?aadOptscim062020");
  });

  it.each([
    { text: "plain", out: [{ kind: "text", text: "plain" }] },
    {
      text: "**Save** the `token` in [docs](docs/x.md).",
      out: [
        { kind: "strong", text: "Save" },
        { kind: "text", text: " the " },
        { kind: "code", text: "token" },
        { kind: "text", text: " in " },
        { kind: "link", text: "docs", href: "docs/x.md" },
        { kind: "text", text: "." },
      ],
    },
  ])("marks become pieces the page renders as text: $text", ({ text, out }) => expect(pieces(text)).toEqual(out));
});
