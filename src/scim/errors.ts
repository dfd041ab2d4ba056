/** RFC 7644 §3.12 error types, and RFC 9865 §2.1's for cursor paging. */
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive"
  | "invalidCursor"
  | "expiredCursor"
  | "invalidCount";

const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/**
 * The one error of this service. Throw it anywhere; `renderError` in http/ turns it into
 * an RFC 7644 §3.12 body. `detail` is shown to the IdP admin: write a sentence they can act on.
 */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  readonly detail: string;
  readonly headers: Record<string, string>;

  constructor(status: number, scimType: ScimType | undefined, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.name = "ScimError";
    this.status = status;
    this.scimType = scimType;
    this.detail = detail;
    this.headers = headers;
  }

  toBody(): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [ERROR_SCHEMA], status: String(this.status), detail: this.detail };
    if (this.scimType) body.scimType = this.scimType;
    return body;
  }
}

export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}
