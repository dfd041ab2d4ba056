/**
 * The one data definition of every resource (RFC 7643 §4, §8.7). /Schemas, /ResourceTypes,
 * input normalisation, PATCH paths, filters and attribute projection are all driven by it,
 * so what is advertised is exactly what is stored and round-trips.
 */

import { LIST_ANSWER_MIB } from "./limits";

type AttrType = "string" | "boolean" | "decimal" | "integer" | "dateTime" | "reference" | "complex" | "binary";
type Mutability = "readOnly" | "readWrite" | "immutable" | "writeOnly";
type Returned = "always" | "never" | "default" | "request";
type Uniqueness = "none" | "server" | "global";

export interface AttributeDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

/**
 * The site roles, the ids /Roles lists (SPEC §5). Written out here because src/scim/ imports
 * nothing; src/resources/user.ts checks at compile time that they are src/roles/role.ts's ROLES.
 */
export const SITE_ROLES = ["registered", "moderator", "admin"] as const;

export const USER_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA_ID = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_USER_SCHEMA_ID = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
export const SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
export const RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
export const SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema";

type AttrOptions = Partial<Omit<AttributeDef, "name" | "type">>;

function attr(name: string, type: AttrType, description: string, opts: AttrOptions = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: "readWrite",
    returned: "default",
    uniqueness: "none",
    ...opts,
  };
}

const str = (name: string, description: string, opts: AttrOptions = {}) => attr(name, "string", description, opts);

/** value / type / primary, the shape of emails, phoneNumbers, ims, photos, entitlements. */
function multiValued(
  name: string,
  description: string,
  valueType: AttrType,
  types: string[] | undefined,
  extra: AttrOptions = {},
): AttributeDef {
  const typeAttr = str("type", `A label indicating the ${name} function.`);
  if (types) typeAttr.canonicalValues = types;
  const value = attr("value", valueType, `The ${name} value.`);
  if (valueType === "reference") value.referenceTypes = ["external"];
  return attr(name, "complex", description, {
    multiValued: true,
    subAttributes: [value, typeAttr, attr("primary", "boolean", `Whether this is the primary ${name} value.`)],
    ...extra,
  });
}

const idAttr = attr("id", "string", "Unique identifier for the resource, assigned by the service provider.", {
  caseExact: true,
  mutability: "readOnly",
  returned: "always",
  uniqueness: "server",
});

const externalIdAttr = str("externalId", "Identifier of the resource as defined by the provisioning client.", {
  caseExact: true,
});

export const USER_SCHEMA: SchemaDef = {
  id: USER_SCHEMA_ID,
  name: "User",
  description: "User Account",
  attributes: [
    idAttr,
    externalIdAttr,
    str("userName", "Unique identifier for the User, typically used to sign in. Case-insensitive.", {
      required: true,
      uniqueness: "server",
    }),
    attr("name", "complex", "The components of the user's real name.", {
      subAttributes: [
        str("formatted", "The full name, formatted for display."),
        str("familyName", "The family name (last name)."),
        str("givenName", "The given name (first name)."),
        str("middleName", "The middle name(s)."),
        str("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
        str("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
      ],
    }),
    str("displayName", "The name of the User, suitable for display to end-users."),
    str("nickName", "The casual way to address the user."),
    attr("profileUrl", "reference", "A URI to the user's online profile.", { referenceTypes: ["external"] }),
    str("title", "The user's title, such as 'Vice President'."),
    str("userType", "The user's type. Registered, Moderator or Admin set the site role when allowed."),
    str("preferredLanguage", "The user's preferred written or spoken language, e.g. 'en-US'."),
    str("locale", "The user's default location for localisation, e.g. 'en-US'."),
    str("timezone", "The user's time zone in IANA format, e.g. 'America/Los_Angeles'."),
    attr("active", "boolean", "Whether the user may sign in to the site."),
    str("password", "Accepted for Okta's Sync Password; stored only as a hash and never returned.", {
      mutability: "writeOnly",
      returned: "never",
    }),
    multiValued("emails", "Email addresses for the user.", "string", ["work", "home", "other"]),
    multiValued("phoneNumbers", "Phone numbers for the user.", "string", ["work", "home", "mobile", "fax", "pager", "other"]),
    multiValued("ims", "Instant messaging addresses for the user.", "string", undefined),
    multiValued("photos", "URLs of photos of the user.", "reference", ["photo", "thumbnail"]),
    attr("addresses", "complex", "Physical mailing addresses for the user.", {
      multiValued: true,
      subAttributes: [
        str("formatted", "The full mailing address, formatted for display."),
        str("streetAddress", "The full street address component."),
        str("locality", "The city or locality component."),
        str("region", "The state or region component."),
        str("postalCode", "The zip code or postal code component."),
        str("country", "The country name component."),
        { ...str("type", "A label indicating the address function."), canonicalValues: ["work", "home", "other"] },
        attr("primary", "boolean", "Whether this is the primary address."),
      ],
    }),
    multiValued("entitlements", "Entitlements of the user.", "string", undefined),
    attr("groups", "complex", "Groups the user belongs to. Change membership through the Group resource.", {
      multiValued: true,
      mutability: "readOnly",
      subAttributes: [
        attr("value", "string", "The id of the group.", { mutability: "readOnly" }),
        attr("$ref", "reference", "The URI of the group.", { mutability: "readOnly", referenceTypes: ["Group"] }),
        attr("display", "string", "The displayName of the group.", { mutability: "readOnly" }),
        attr("type", "string", "How the membership was derived.", { mutability: "readOnly", canonicalValues: ["direct"] }),
      ],
    }),
    // Written by the IdP (Entra app roles, Okta entitlements from /Roles) and returned exactly as
    // sent, so Entra finds what it mapped; the effective site role is SITE_USER_SCHEMA's `role`.
    multiValued(
      "roles",
      "Roles the IdP assigns, kept as sent. An entry whose value (else display) is Registered, Moderator or Admin (any case) is a source of the site role.",
      "string",
      undefined,
      { subAttributes: rolesSubAttributes() },
    ),
  ],
};

/** RFC 7643 §4.1.2 roles: value, display, type, primary; canonical values are the /Roles ids. */
function rolesSubAttributes(): AttributeDef[] {
  const value = str("value", "The role: registered, moderator or admin names a site role; any other value is kept and names none.");
  value.canonicalValues = [...SITE_ROLES];
  return [
    value,
    str("display", "A human-readable name for the role, e.g. Admin; names the site role when value is absent."),
    str("type", "A label for the role's function, e.g. Entra's WindowsAzureActiveDirectoryRole."),
    attr("primary", "boolean", "Whether this is the primary role."),
  ];
}

export const SITE_USER_SCHEMA_ID = "urn:scim-edge:scim:schemas:extension:site:2.0:User";

/**
 * What this service decided for the user on the site (docs/roles.md): read-only, on
 * every user, so an IdP reads the effective role next to the `roles` it wrote.
 */
const SITE_USER_SCHEMA: SchemaDef = {
  id: SITE_USER_SCHEMA_ID,
  name: "SiteUser",
  description: "The user on the site, as this service decided it",
  attributes: [
    str("role", "The effective site role, decided from userType, roles and the mapped groups under the promotion settings.", {
      mutability: "readOnly",
      canonicalValues: [...SITE_ROLES],
    }),
  ],
};

const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA_ID,
  name: "EnterpriseUser",
  description: "Enterprise User",
  attributes: [
    str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person by the organisation."),
    str("costCenter", "Identifies the name of a cost center."),
    str("organization", "Identifies the name of an organisation."),
    str("division", "Identifies the name of a division."),
    str("department", "Identifies the name of a department."),
    attr("manager", "complex", "The user's manager.", {
      subAttributes: [
        attr("value", "string", "The id of the manager's User resource.", { caseExact: true }),
        attr("$ref", "reference", "The URI of the manager's User resource.", { referenceTypes: ["User"] }),
        attr("displayName", "string", "The displayName of the manager.", { mutability: "readOnly" }),
      ],
    }),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: GROUP_SCHEMA_ID,
  name: "Group",
  description: "Group",
  attributes: [
    idAttr,
    externalIdAttr,
    // Not unique (RFC 7643 §4.2 says "uniqueness": "none"): Entra provisions two groups of one name.
    str("displayName", "A human-readable name for the Group.", { required: true }),
    attr("members", "complex", "A list of members of the Group.", {
      multiValued: true,
      subAttributes: [
        attr("value", "string", "The id of the member's User resource.", { mutability: "immutable", caseExact: true }),
        attr("$ref", "reference", "The URI of the member.", { mutability: "immutable", referenceTypes: ["User"] }),
        attr("display", "string", "The member's display name.", { mutability: "readOnly" }),
        attr("type", "string", "The member's type.", { mutability: "immutable", canonicalValues: ["User"] }),
      ],
    }),
  ],
};

/** The common `meta` attribute (RFC 7643 §3.1): read-only, filterable, sortable. */
export const META_ATTRIBUTE: AttributeDef = attr("meta", "complex", "Resource metadata.", {
  mutability: "readOnly",
  subAttributes: [
    attr("resourceType", "string", "The resource type.", { mutability: "readOnly", caseExact: true }),
    attr("created", "dateTime", "When the resource was created.", { mutability: "readOnly" }),
    attr("lastModified", "dateTime", "When the resource was last changed.", { mutability: "readOnly" }),
    attr("location", "reference", "The URI of the resource.", { mutability: "readOnly", caseExact: true }),
    attr("version", "string", "The version (weak ETag) of the resource.", { mutability: "readOnly", caseExact: true }),
  ],
});

export interface ResourceTypeDef {
  id: "User" | "Group";
  name: string;
  endpoint: string;
  description: string;
  schema: SchemaDef;
  extensions: SchemaDef[];
}

export const USER_RESOURCE: ResourceTypeDef = {
  id: "User",
  name: "User",
  endpoint: "/Users",
  description: "User Account",
  schema: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA, SITE_USER_SCHEMA],
};

export const GROUP_RESOURCE: ResourceTypeDef = {
  id: "Group",
  name: "Group",
  endpoint: "/Groups",
  description: "Group",
  schema: GROUP_SCHEMA,
  extensions: [],
};

export const RESOURCE_TYPES: ResourceTypeDef[] = [USER_RESOURCE, GROUP_RESOURCE];

/** Read-only attributes of the discovery resources. */
const ro = (name: string, type: AttrType, description: string, opts: AttrOptions = {}) =>
  attr(name, type, description, { mutability: "readOnly", ...opts });
const supported = (name: string, description: string, more: AttributeDef[] = []) =>
  ro(name, "complex", description, {
    required: true,
    subAttributes: [ro("supported", "boolean", "Whether it is supported.", { required: true }), ...more],
  });

/** The sub-attributes that describe one attribute (RFC 7643 §7). */
const ATTRIBUTE_DEFINITION: AttributeDef[] = [
  ro("name", "string", "The attribute's name.", { required: true, caseExact: true }),
  ro("type", "string", "The attribute's data type.", {
    required: true,
    canonicalValues: ["string", "complex", "boolean", "decimal", "integer", "dateTime", "reference", "binary"],
  }),
  ro("multiValued", "boolean", "Whether the attribute is multi-valued.", { required: true }),
  ro("description", "string", "The attribute's human-readable description."),
  ro("required", "boolean", "Whether the attribute is required."),
  ro("canonicalValues", "string", "Suggested values.", { multiValued: true, caseExact: true }),
  ro("caseExact", "boolean", "Whether string values are case-sensitive."),
  ro("mutability", "string", "Whether and when the attribute can be changed.", {
    caseExact: true,
    canonicalValues: ["readOnly", "readWrite", "immutable", "writeOnly"],
  }),
  ro("returned", "string", "When the attribute is returned.", {
    caseExact: true,
    canonicalValues: ["always", "never", "default", "request"],
  }),
  ro("uniqueness", "string", "How values must be unique.", { caseExact: true, canonicalValues: ["none", "server", "global"] }),
  ro("referenceTypes", "string", "The resource types a reference may point to.", { multiValued: true, caseExact: true }),
];

/**
 * The schemas of the discovery resources themselves (RFC 7643 §8.7.2), listed by /Schemas next to
 * the resource schemas so a client can read /ServiceProviderConfig, /ResourceTypes and /Schemas
 * by their definitions too. Not resource schemas: nothing filters or PATCHes them.
 */
export const DISCOVERY_SCHEMAS: SchemaDef[] = [
  {
    id: SPC_SCHEMA,
    // Named like the other two (ResourceType, Schema) and its endpoint; RFC 7643 §8.7.2 shows "Service Provider Configuration".
    name: "ServiceProviderConfig",
    description: "Schema for representing the service provider's configuration",
    attributes: [
      ro("documentationUri", "reference", "An HTTP-addressable URL pointing to the service provider's help documentation.", {
        referenceTypes: ["external"],
      }),
      supported("patch", "A complex type that specifies PATCH configuration options."),
      supported("bulk", "A complex type that specifies bulk configuration options.", [
        ro("maxOperations", "integer", "The maximum number of operations.", { required: true }),
        ro("maxPayloadSize", "integer", "The maximum payload size in bytes.", { required: true }),
      ]),
      supported("filter", "A complex type that specifies FILTER options.", [
        ro("maxResults", "integer", "The maximum number of resources returned in a response.", { required: true }),
      ]),
      supported("changePassword", "A complex type that specifies configuration options related to changing a password."),
      supported("sort", "A complex type that specifies sort result options."),
      supported("etag", "A complex type that specifies ETag configuration options."),
      // RFC 9865 §4.
      ro("pagination", "complex", "A complex type that indicates pagination configuration options (RFC 9865).", {
        subAttributes: [
          ro("cursor", "boolean", "Whether cursor-based pagination is supported.", { required: true }),
          ro("index", "boolean", "Whether index-based pagination is supported.", { required: true }),
          ro("defaultPaginationMethod", "string", "The pagination method used when a request names none.", {
            caseExact: true,
            canonicalValues: ["cursor", "index"],
          }),
          ro("defaultPageSize", "integer", "The number of resources in a page when a request gives no count."),
          ro(
            "maxPageSize",
            "integer",
            `The maximum number of resources in a page, whatever the count asked. A page is also cut at ${LIST_ANSWER_MIB} MiB of resources as stored (documents, and each member or group reference with its display name): by cursor it ends early and nextCursor goes on from there; by index it is refused with 400 tooMany (ask fewer, or leave out members with excludedAttributes=members and read a group by id).`,
          ),
          ro("cursorTimeout", "integer", "The minimum number of seconds a cursor is valid after the page that returned it."),
        ],
      }),
      ro("authenticationSchemes", "complex", "The authentication schemes supported by the service provider.", {
        required: true,
        multiValued: true,
        subAttributes: [
          ro("type", "string", "The authentication scheme.", {
            required: true,
            canonicalValues: ["oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"],
          }),
          ro("name", "string", "The common authentication scheme name.", { required: true }),
          ro("description", "string", "A description of the authentication scheme.", { required: true }),
          ro("specUri", "reference", "The authentication scheme's specification.", { referenceTypes: ["external"] }),
          ro("documentationUri", "reference", "The authentication scheme's usage documentation.", { referenceTypes: ["external"] }),
          ro("primary", "boolean", "Whether this is the preferred scheme."),
        ],
      }),
    ],
  },
  {
    id: RESOURCE_TYPE_SCHEMA,
    name: "ResourceType",
    description: "Specifies the schema that describes a SCIM resource type",
    attributes: [
      ro("id", "string", "The resource type's server unique id.", { caseExact: true }),
      ro("name", "string", "The resource type name.", { required: true }),
      ro("description", "string", "The resource type's human-readable description."),
      ro("endpoint", "reference", "The resource type's HTTP-addressable endpoint relative to the Base URL.", {
        required: true,
        referenceTypes: ["uri"],
      }),
      ro("schema", "reference", "The resource type's primary/base schema URI.", {
        required: true,
        caseExact: true,
        referenceTypes: ["uri"],
      }),
      ro("schemaExtensions", "complex", "A list of URIs of the resource type's schema extensions.", {
        multiValued: true,
        subAttributes: [
          ro("schema", "reference", "The URI of a schema extension.", { required: true, caseExact: true, referenceTypes: ["uri"] }),
          ro("required", "boolean", "Whether resources must include this extension.", { required: true }),
        ],
      }),
    ],
  },
  {
    id: SCHEMA_SCHEMA,
    name: "Schema",
    description: "Specifies the schema attribute",
    attributes: [
      ro("id", "string", "The unique URI of the schema.", { required: true, caseExact: true }),
      ro("name", "string", "The schema's human-readable name."),
      ro("description", "string", "The schema's human-readable description."),
      ro("attributes", "complex", "A complex attribute that includes the attributes of a schema.", {
        required: true,
        multiValued: true,
        subAttributes: [
          ...ATTRIBUTE_DEFINITION,
          ro("subAttributes", "complex", "Used to define the sub-attributes of a complex attribute.", {
            multiValued: true,
            subAttributes: ATTRIBUTE_DEFINITION,
          }),
        ],
      }),
    ],
  },
];
export const ALL_SCHEMAS: SchemaDef[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, SITE_USER_SCHEMA, GROUP_SCHEMA];

/** Case-insensitive lookup of an attribute among a list (RFC 7643 §2.1: names are case-insensitive). */
export function findAttribute(attrs: readonly AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!attrs) return undefined;
  const lower = name.toLowerCase();
  return attrs.find((a) => a.name.toLowerCase() === lower);
}

/** The extension schema whose URN matches (case-insensitively), if the resource type has it. */
export function findExtension(rt: ResourceTypeDef, urn: string): SchemaDef | undefined {
  const lower = urn.toLowerCase();
  return rt.extensions.find((s) => s.id.toLowerCase() === lower);
}
