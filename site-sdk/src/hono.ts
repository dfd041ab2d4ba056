/**
 * Hono (on Workers, or anywhere Hono runs): a middleware that verifies the delivery before the
 * handler runs and hands it over as `c.get("webhook")`.
 *
 *   app.post("/webhooks/scim", webhookVerifier({ secrets: (c) => [c.env.SIGNING_SECRET] }), (c) => {
 *     const { id, event } = c.get("webhook");
 *     ...
 *   });
 *
 * A request that is not genuine or not fresh gets 401 (the service records it as rejected); an
 * unusable secret gets 500, which the service retries, so nothing is lost while it is fixed.
 */
import type { Context, MiddlewareHandler } from "hono";
import { type Delivery, SigningSecretError, type VerifyOptions, verify, WebhookVerificationError } from "./verify.js";

export type WebhookVariables = { webhook: Delivery };

/** The app's env with the verified delivery as a variable. */
export type WebhookEnv<E> = E & { Variables: WebhookVariables };

export interface WebhookVerifierOptions<E extends { Bindings?: object }> extends VerifyOptions {
  /** The secret or secrets (several while rotating), or a function of the request's context (Workers: from c.env). */
  secrets: string | readonly string[] | ((c: Context<WebhookEnv<E>>) => string | readonly string[]);
}

export function webhookVerifier<E extends { Bindings?: object } = { Bindings?: object }>(
  options: WebhookVerifierOptions<E>,
): MiddlewareHandler<WebhookEnv<E>> {
  const { secrets, ...verifyOptions } = options;
  return async function verifyWebhook(c, next) {
    const chosen = typeof secrets === "function" ? secrets(c) : secrets;
    let delivery: Delivery;
    try {
      delivery = await verify(await c.req.arrayBuffer(), c.req.raw.headers, chosen, verifyOptions);
    } catch (err) {
      if (err instanceof WebhookVerificationError) return c.json({ error: err.reason, detail: err.message }, 401);
      if (err instanceof SigningSecretError) return c.json({ error: "misconfigured", detail: err.message }, 500);
      throw err;
    }
    c.set("webhook", delivery);
    await next();
  };
}
