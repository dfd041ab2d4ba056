/**
 * How to connect Okta and Entra ID, written once: the Connect page shows these steps (with this
 * site's own URLs) and the README's "Connect Okta" and "Connect Microsoft Entra ID" sections are
 * generated from them (`npm run readme:generate`; a unit test fails when the README differs), so
 * the two can never give different steps.
 *
 * Text marks: `**bold**` (a control's name), `` `code` `` (something to type or copy), and the
 * placeholders {base} (the SCIM base URL), {tenant} (Entra's Tenant URL) and {token} (the OAuth
 * token endpoint), which the page fills in with this site's URLs and the README writes as
 * `https://<worker host>/...`.
 */

interface Step {
  text: string;
  /** Items under the step (the fields of one screen). */
  items?: readonly string[];
  /** A block to copy as it is (an Okta or Entra expression). */
  code?: string;
}

interface StepGroup {
  id: string;
  title: string;
  /** Paragraphs before the steps. */
  intro?: readonly string[];
  steps?: readonly Step[];
  /** Paragraphs after the steps. */
  after?: readonly string[];
}

export interface Provider {
  id: "okta" | "entra";
  title: string;
  intro: readonly string[];
  groups: readonly StepGroup[];
}

/** The Okta expression for the app's userType: members of two groups get the roles, everyone else Registered. */
const OKTA_USERTYPE_EXPRESSION =
  'isMemberOfGroupName("Site Admins") ? "Admin" : isMemberOfGroupName("Site Moderators") ? "Moderator" : "Registered"';
/** The Entra expression for roles: every app role assignment, replaced when one is removed. */
const ENTRA_ROLES_EXPRESSION = "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])";
/** Entra's mapping of `active` for soft-deleted users (Entra sends the string "False" without the flag). */
const ENTRA_ACTIVE_EXPRESSION = 'Switch([IsSoftDeleted], , "False", "True", "True", "False")';

export const OKTA: Provider = {
  id: "okta",
  title: "Connect Okta",
  intro: [
    "Before you start: [deploy](docs/deploy.md), and turn SCIM **On** in `/admin` (**Settings**, **Save settings**). Keep a tab open on the admin page; you go back and forth as in the site's own guide.",
    "Okta authenticates with the static token, `SCIM_BEARER_TOKEN` (its SCIM connectors send a header token; Okta's OAuth for SCIM is the authorization-code grant of catalog apps, which this service does not offer). To replace the token without downtime, the new one goes in `SCIM_BEARER_TOKEN_NEXT` first: **Connect Okta / Entra** shows when Okta has moved to it.",
  ],
  groups: [
    {
      id: "okta-method-1",
      title: "Method 1: a new SCIM application (SCIM 2.0 Test App, OAuth Bearer Token)",
      steps: [
        { text: "In Okta, **Applications → Browse App Catalog**, search **SCIM 2.0 Test App (OAuth Bearer Token)**, **Add**." },
        { text: '**General Settings**: an application label such as "Site SCIM"; **Next**.' },
        {
          text: "**Sign-On Options**: make **Application username format** match the user identifier your site's SSO uses (usually the email, i.e. Okta username); **Done**.",
        },
        {
          text: "**Provisioning → Configure API Integration → Enable API Integration**:",
          items: ["**SCIM 2.0 Base Url**: `{base}`", "**OAuth Bearer Token**: the value of `SCIM_BEARER_TOKEN`"],
        },
        { text: '**Test API Credentials** → "verified". **Save**.' },
        {
          text: "**Provisioning → To App → Edit**: enable **Create Users**, **Update User Attributes** and **Deactivate Users**. **Sync Password** may be on too: the password is accepted, kept only as a salted hash, and never returned or sent to the site. **Save**.",
        },
      ],
    },
    {
      id: "okta-method-2",
      title: "Method 2: SCIM on your existing SSO application",
      steps: [
        { text: "In your SSO app, **General → App Settings → Edit**, check **Enable SCIM provisioning**, **Save**." },
        {
          text: "**Provisioning → Edit**:",
          items: [
            "**SCIM connector base URL**: `{base}`",
            '**Unique identifier field for users**: `email` (or `userName`; both work: `filter=email eq "..."` matches the userName or the primary email)',
            "**Supported provisioning actions**: **Push New Users**, **Push Profile Updates**, and **Push Groups** if you map groups to roles (below)",
            "**Authentication Mode**: **HTTP Header**; **Authorization**: the value of `SCIM_BEARER_TOKEN` (with or without `Bearer `)",
          ],
        },
        { text: '**Test Connector Configuration** → "verified". **Save**.' },
        { text: "**Provisioning → To App → Edit**: enable **Create Users**, **Update User Attributes**, **Deactivate Users**. **Save**." },
      ],
    },
    {
      id: "okta-assign",
      title: "Assign users",
      intro: [
        'In the app\'s **Assignments** tab assign people or groups. Okta looks each user up with `GET /Users?filter=userName eq "..."`, creates missing ones with `POST /Users`, and from then on sends profile changes, deactivation (`active: false`) when a user is unassigned or deactivated in Okta, and reactivation when reassigned. Each change reaches the site within seconds.',
      ],
    },
    {
      id: "okta-usertype",
      title: "Moderators and admins through userType",
      steps: [
        {
          text: "In `/admin` → **Settings**, check **Allow Moderator Promotion via a userType property** and/or **Allow Admin Promotion via a userType property**, **Save settings**.",
        },
        {
          text: "In Okta, **Directory → Profile Editor → Mappings**, **Okta to** your app, map an expression to `userType` for everyone (or set `userType` per user under **Directory → People → Profile**):",
          code: OKTA_USERTYPE_EXPRESSION,
        },
      ],
      after: [
        "Send `Registered` (not `Employee`) for people who should not keep a role: a value that names no role leaves the role to the groups, or as it is. `userType` is stored exactly as sent; the effective role is `role` in the SCIM user's site extension, and `roles` in every event.",
      ],
    },
    {
      id: "okta-push-groups",
      title: "Groups to roles with Push Groups: no more Force Sync",
      intro: [
        "Okta does not send a user update when group membership changes, so the site's own guide has you **Force Sync** after changing a group. Push the group itself instead:",
      ],
      steps: [
        {
          text: 'In the Okta app, **Push Groups → Push Groups → Find groups by name**, choose e.g. "Site Moderators" and "Site Admins", **Save**. Okta creates them here with their members, then sends every membership change at once.',
        },
        {
          text: "In `/admin` → **Settings**, choose the pushed group for **Moderator group** and for **Admin group**, **Save settings**. The members the group already has get the role within seconds (the settings screen shows the progress); later membership changes promote or demote at once, under the same two Allow ... Promotion settings.",
        },
      ],
    },
    {
      id: "okta-entitlements",
      title: "Roles as entitlements (Okta Identity Governance)",
      steps: [
        {
          text: "The app needs entitlement discovery: built with the Okta Integration Wizard's **SCIM Entitlement Management** (resource type `Role`, endpoint `/Roles`), with user schema discovery, which Okta Support switches on. On the app, enable **Governance Engine**.",
        },
        {
          text: "Okta reads `GET /ResourceTypes`, `GET /Schemas` and `GET /Roles`: the **Governance** tab lists **Registered**, **Moderator** and **Admin**.",
        },
        {
          text: 'Assign them on the **Governance** tab (by person, or an entitlement policy such as "members of Site Admins get Admin"). Okta sends them in the user\'s `roles`, and the remaining ones when one is revoked.',
        },
        { text: "In `/admin` → **Settings**, check the promotion settings the roles need." },
      ],
    },
  ],
};

export const ENTRA: Provider = {
  id: "entra",
  title: "Connect Microsoft Entra ID",
  intro: [],
  groups: [
    {
      id: "entra-app",
      title: "The provisioning app",
      steps: [
        {
          text: '**Entra admin center → Enterprise applications → New application → Create your own application**, "Integrate any other application you don\'t find in the gallery (Non-gallery)".',
        },
        { text: "**Provisioning → Get started**, **Provisioning Mode: Automatic**." },
        {
          text: "**Admin Credentials**: **Tenant URL** `{tenant}` (the flag turns on Entra's RFC-compliant PATCH; both behaviours are supported), and one of the three ways in below: OAuth (Microsoft's requirement for provisioning apps from 2026: no long-lived secret) or the static token. **Test Connection** (Entra looks up a random user and expects an empty list, which it gets). **Save**.",
        },
        {
          text: "**Mappings → Provision Microsoft Entra ID Users**: keep `userPrincipalName` → `userName` (or `mail` → `userName`) as the matching attribute, and map this expression to `active`:",
          code: ENTRA_ACTIVE_EXPRESSION,
        },
        { text: "For moderators and admins, map the application's app roles to `roles` (**Moderators and admins: app roles**, below)." },
        {
          text: "**Mappings → Provision Microsoft Entra ID Groups**: on if you map groups to roles (then choose them in `/admin` → **Settings**, as for Okta).",
        },
        { text: '**Settings → Scope**: "Sync only assigned users and groups"; assign them under **Users and groups**.' },
        {
          text: "**Provisioning Status: On**, **Save**. The first cycle runs within 40 minutes; **Provision on demand** works at once for one user.",
        },
      ],
      after: [
        'Entra disables a user (unassigned, out of scope or soft-deleted) by setting `active` to `false` (the string `"False"` without the flag) and sends `DELETE` only on hard delete, 30 days later: the site gets `user.deactivated`, later `user.deleted`.',
      ],
    },
    {
      id: "entra-app-roles",
      title: "Moderators and admins: app roles",
      steps: [
        {
          text: "**App registrations → All applications →** the app **→ App roles → Create app role**: Display name `Admin`, Allowed member types **Users/Groups**, Value `Admin`; the same for `Moderator`. The **Value** names the site role (`Registered`, `Moderator` or `Admin`, any case); another value (Entra's default `User`) is kept as sent and names none.",
        },
        {
          text: "**Provisioning → Mappings → Provision Microsoft Entra ID Users → Show advanced options → Edit attribute list**: make sure `roles` is there, type **String**, **Multi-Value** checked; **Save**.",
        },
        {
          text: "**Add New Mapping**: Mapping type **Expression**, Target attribute `roles`, this expression (Entra sends each user's app roles and replaces them when they change, so removing an assignment demotes):",
          code: ENTRA_ROLES_EXPRESSION,
        },
        {
          text: "**Users and groups → Add user/group**: pick people or groups and **Select a role**; in `/admin` → **Settings**, check the two Allow ... Promotion settings the roles need.",
        },
      ],
      after: [
        '`AppRoleAssignmentsComplex([appRoleAssignments])` works too, but Entra only ever adds with it: a revoked role stays. For one role per user, `SingleAppRoleAssignment([appRoleAssignments])` → `roles[primary eq "True"].value`. `GET` returns `roles` exactly as Entra sent them, so nothing is sent again every cycle. A `userType` expression still works as a source: [docs/roles.md](docs/roles.md).',
      ],
    },
    {
      id: "entra-wif",
      title: "Way in 1: OAuth with workload identity federation (no secret anywhere)",
      steps: [
        {
          text: "In Entra, **Admin Credentials → Authentication Method: Workload Identity Federation → Select Workload Identity**. Entra shows the **Issuer**, **JWKS URL**, **Subject** and **Audience**.",
        },
        {
          text: "In `/admin` → **Connect Okta / Entra** → **New OAuth client**: a name, **Workload identity federation**, your **Entra tenant ID** (it fills the issuer and the JWKS URL), the **Subject** and the **Audience**. **Create client**.",
        },
        {
          text: "Back in Entra: **Client ID** (the client's Client Identifier), **Token URL** `{token}`, **SCIM URL** `{tenant}`. **Test Connection**, **Save**.",
        },
      ],
    },
    {
      id: "entra-secret",
      title: 'Way in 2: OAuth with a client secret ("OAuth2 client credentials grant")',
      steps: [
        {
          text: "In `/admin` → **Connect Okta / Entra** → **New OAuth client**: a name, **Client secret**, how long the secret lives (1 to 3 years), **Create client**. The page shows the secret **once**, with the four fields Entra asks for.",
        },
        {
          text: "In Entra, **Admin Credentials → Authentication Method: OAuth2 Client Credentials Grant**: **Tenant URL** `{tenant}`, **Token Endpoint** `{token}`, **Client Identifier**, **Client Secret**. **Test Connection**, **Save**.",
        },
        {
          text: "Before the secret expires (the Connect page shows when, and the health verdict warns 30 days ahead): **New secret** on the same client, put it in Entra, wait until the page shows it in use, then delete the old one.",
        },
      ],
    },
    {
      id: "entra-token",
      title: "Way in 3: the static token",
      steps: [{ text: "**Admin Credentials → Secret Token**: the value of `SCIM_BEARER_TOKEN`." }],
      after: [
        "Once Entra uses OAuth, uncheck **Accept the static token** under **Require OAuth** (Connect) and **Save**: `SCIM_BEARER_TOKEN` and `_NEXT` are then refused. Keep it while Okta provisions: Okta's SCIM connectors have no OAuth client credentials mode. The token endpoint, its answers and its limits: [docs/oauth.md](docs/oauth.md).",
      ],
    },
  ],
};

const PROVIDERS: readonly Provider[] = [OKTA, ENTRA];

/** The README's URLs for the placeholders. */
const README_URLS = {
  base: "https://<worker host>/api/scim/v2",
  tenant: "https://<worker host>/api/scim/v2?aadOptscim062020",
  token: "https://<worker host>/oauth/token",
};

export type Urls = typeof README_URLS;

/** A step's text with the placeholders filled in. */
export const fill = (text: string, urls: Urls): string => text.replace(/\{(base|tenant|token)\}/g, (_, k: keyof Urls) => urls[k]);

/** Pieces of marked text: plain, **strong**, `code`, or a [link](href); the page renders each as text. */
export type Piece = { kind: "text" | "strong" | "code"; text: string } | { kind: "link"; text: string; href: string };

export function pieces(text: string): Piece[] {
  const out: Piece[] = [];
  const re = /\*\*(.+?)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)]+)\)/g;
  let at = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > at) out.push({ kind: "text", text: text.slice(at, m.index) });
    if (m[1] !== undefined) out.push({ kind: "strong", text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: "code", text: m[2] });
    else out.push({ kind: "link", text: m[3] ?? "", href: m[4] ?? "" });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ kind: "text", text: text.slice(at) });
  return out;
}

/** The README's section of one provider, as Markdown (the README holds it between markers). */
export function providerMarkdown(p: Provider, urls: Urls = README_URLS): string {
  const lines: string[] = [`## ${p.title}`, ""];
  for (const para of p.intro) lines.push(fill(para, urls), "");
  for (const g of p.groups) {
    lines.push(`### ${g.title}`, "");
    for (const para of g.intro ?? []) lines.push(fill(para, urls), "");
    (g.steps ?? []).forEach((step, i) => {
      lines.push(`${i + 1}. ${fill(step.text, urls)}`);
      for (const item of step.items ?? []) lines.push(`   - ${fill(item, urls)}`);
      if (step.code) lines.push("", "   ```", `   ${step.code}`, "   ```", "");
    });
    if (g.steps?.length && lines.at(-1) !== "") lines.push("");
    for (const para of g.after ?? []) lines.push(fill(para, urls), "");
  }
  return lines.join("\n").trimEnd();
}

/** The README's markers around a provider's section (scripts/readme-generate.mjs writes between them). */
const readmeStart = (id: Provider["id"]) =>
  `<!-- connect-${id}:start (npm run readme:generate writes this from src/admin/ui/connect-steps.ts) -->`;
const readmeEnd = (id: Provider["id"]) => `<!-- connect-${id}:end -->`;

/** The README's text with each provider's section written between its markers. */
export function withProviders(readme: string): string {
  let text = readme;
  for (const p of PROVIDERS) {
    const start = readmeStart(p.id);
    const end = readmeEnd(p.id);
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no markers for ${p.id}`);
    text = `${text.slice(0, from + start.length)}\n${providerMarkdown(p)}\n${text.slice(to)}`;
  }
  return text;
}
