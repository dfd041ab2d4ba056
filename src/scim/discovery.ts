import { LIMITS } from "./limits";
import {
  ALL_SCHEMAS,
  DISCOVERY_SCHEMAS,
  LIST_RESPONSE_SCHEMA,
  RESOURCE_TYPE_SCHEMA,
  RESOURCE_TYPES,
  type ResourceTypeDef,
  SCHEMA_SCHEMA,
  type SchemaDef,
  SPC_SCHEMA,
} from "./schemas";

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: `${baseUrl.replace(/\/api\/scim\/v2$/, "")}/admin`,
    // RFC 7643 §5 has no attribute for a PATCH's operations or a filter's comparisons, and SCIM
    // clients validate this document strictly (scim2-client refuses an unknown sub-attribute), so
    // those two limits are stated in docs/guarantees.md and in each 400 that enforces them.
    patch: { supported: true },
    bulk: { supported: true, maxOperations: LIMITS.bulkMaxOperations, maxPayloadSize: LIMITS.bulkMaxPayloadSize },
    filter: { supported: true, maxResults: LIMITS.maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    // RFC 9865 §4. Index paging stays the default: Okta and Entra page by startIndex.
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: "index",
      defaultPageSize: LIMITS.defaultPageSize,
      maxPageSize: LIMITS.maxResults,
      cursorTimeout: LIMITS.cursorTimeout,
    },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "OAuth Bearer Token",
        description: "Authentication with the site's SCIM bearer token in the Authorization header.",
        specUri: "https://www.rfc-editor.org/rfc/rfc6750",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypeResource(rt: ResourceTypeDef, baseUrl: string) {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: rt.id,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema.id,
    schemaExtensions: rt.extensions.map((s) => ({ schema: s.id, required: false })),
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${rt.id}` },
  };
}

export function schemaResource(s: SchemaDef, baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes,
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${s.id}` },
  };
}

export function listOf(resources: unknown[]) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

export const findResourceType = (id: string) => RESOURCE_TYPES.find((rt) => rt.id.toLowerCase() === id.toLowerCase());
/** Everything /Schemas lists: the resource schemas, then the discovery resources' own (RFC 7643 §8.7.2). */
export const LISTED_SCHEMAS: readonly SchemaDef[] = [...ALL_SCHEMAS, ...DISCOVERY_SCHEMAS];
export const findSchema = (id: string) => LISTED_SCHEMAS.find((s) => s.id.toLowerCase() === id.toLowerCase());
