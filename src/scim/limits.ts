/** The limits the service enforces, advertised truthfully in /ServiceProviderConfig. */
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
} as const;

/** listAnswerBytes in MiB, for sentences. */
export const LIST_ANSWER_MIB = LIMITS.listAnswerBytes / (1024 * 1024);
