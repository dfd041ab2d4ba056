/**
 * Node's `http` (and anything with its request and response shapes: Express, Fastify's raw
 * objects): a request listener that reads the raw body, verifies it and calls `onDelivery`.
 *
 *   import { createServer } from "node:http";
 *   createServer(webhookHandler({ secrets: process.env.SIGNING_SECRET, onDelivery: (d) => replica.apply(d) }));
 *
 * Answers: 2xx once onDelivery has returned (204, or 200 with the JSON it returned), 401 when the
 * request is not genuine or not fresh, 405 for a method other than POST, 413 above `maxBodyBytes`,
 * 500 when a secret is unusable or onDelivery throws (the service retries 5xx; a 4xx it does not).
 */
import { type Delivery, SigningSecretError, type VerifyOptions, verify, WebhookVerificationError } from "./verify.js";

/** The parts of `http.IncomingMessage` used here. */
export interface NodeRequest extends AsyncIterable<Uint8Array | string> {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The parts of `http.ServerResponse` used here. */
export interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

export interface WebhookHandlerOptions extends VerifyOptions {
  secrets: string | readonly string[];
  /** Applies a verified delivery; what it returns (an object) is answered as JSON, else 204. */
  onDelivery: (delivery: Delivery) => unknown;
  /** Larger bodies are refused with 413 (default 1 MiB; the service's events are far smaller). */
  maxBodyBytes?: number;
  /** Told of every request refused as not genuine or not fresh (answered 401): log it. */
  onRefused?: (error: WebhookVerificationError, headers: NodeRequest["headers"]) => void;
}

const MiB = 1024 * 1024;

class TooLarge extends Error {}

/** The request's body as bytes, at most `limit` of them. */
export async function readBody(req: NodeRequest, limit = MiB): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.length;
    if (size > limit) throw new TooLarge();
    chunks.push(bytes);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function answer(res: NodeResponse, status: number, body?: unknown): void {
  res.statusCode = status;
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}

export function webhookHandler(options: WebhookHandlerOptions): (req: NodeRequest, res: NodeResponse) => Promise<void> {
  const { secrets, onDelivery, onRefused, maxBodyBytes = MiB, ...verifyOptions } = options;
  return async function handleWebhook(req, res) {
    if (req.method !== "POST") return answer(res, 405, { error: "method_not_allowed", detail: "Deliveries are POSTs." });
    let body: Uint8Array;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) return answer(res, 413, { error: "too_large", detail: `The body is over ${maxBodyBytes} bytes.` });
      throw err;
    }
    let delivery: Delivery;
    try {
      delivery = await verify(body, req.headers, secrets, verifyOptions);
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        onRefused?.(err, req.headers);
        return answer(res, 401, { error: err.reason, detail: err.message });
      }
      if (err instanceof SigningSecretError) return answer(res, 500, { error: "misconfigured", detail: err.message });
      throw err;
    }
    let result: unknown;
    try {
      result = await onDelivery(delivery);
    } catch {
      // Not applied: a 5xx makes the service retry it later.
      return answer(res, 500, { error: "not_applied", detail: "The delivery could not be applied; it will be retried." });
    }
    return typeof result === "object" && result !== null ? answer(res, 200, result) : answer(res, 204);
  };
}
