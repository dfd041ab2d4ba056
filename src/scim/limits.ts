/**
 * The limits the service enforces. The ones RFC 7643 §5 and RFC 9865 §4 have attributes for are
 * advertised in /ServiceProviderConfig; all of them are in docs/guarantees.md.
 */
export const LIMITS = {
  /** Resources in one list page, whichever the paging method (filter.maxResults, pagination.maxPageSize). */
  maxResults: 200,
  /** A page's length when the request gives no count (pagination.defaultPageSize). */
  defaultPageSize: 200,
  /** Seconds a cursor stays valid after the page that issued it (pagination.cursorTimeout, RFC 9865 §4). */
  cursorTimeout: 3600,
  /**
   * Bytes of resources one list answer carries at most, estimated from what is stored: each
   * resource's JSON document and metadata, and every member (or group) reference it lists with
   * its display name. A Worker has 128 MB for all the requests it serves at once; an answer of
   * this size took the isolate about 5 times as much at its peak (bench/README.md, "Memory").
   */
  listAnswerBytes: 4 * 1024 * 1024,
  bulkMaxOperations: 1000,
  bulkMaxPayloadSize: 1024 * 1024,
  /** Operations in one PATCH request (src/scim/patch.ts). */
  patchMaxOperations: 1000,
  /** Attribute comparisons in one filter (src/scim/filter/parser.ts MAX_FILTER_COMPARISONS). */
  filterMaxComparisons: 100,
} as const;

/** listAnswerBytes in MiB, for sentences. */
export const LIST_ANSWER_MIB = LIMITS.listAnswerBytes / (1024 * 1024);
