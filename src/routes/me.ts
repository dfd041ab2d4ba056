import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ScimError } from "../scim/errors";

/** /Me (RFC 7644 §3.11) is not supported: the IdP authenticates as itself, not as a user. */
export const meRoutes = new Hono<AppEnv>();

meRoutes.all("/", () => {
  throw new ScimError(501, undefined, "/Me is not supported by this service: the bearer token identifies the IdP, not a user.");
});
