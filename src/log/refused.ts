/**
 * Refused requests (401: no or bad token; 429: over the rate; and every refusal of the OAuth token
 * endpoint, src/oauth/token-endpoint.ts) are not logged one row each: an
 * unauthenticated client must not be able to fill the provisioning log with its junk paths. Per
 * isolate, each (client, reason, minute) gets one row, counted: "412 requests with a bad token
 * from 203.0.113.7 between 10:01:02 and 10:01:59 UTC". The row is written by the first refusal,
 * rewritten with the count as it doubles (2, 4, 8, ... requests), and once more a second after
 * the latest refusal (a trailing write, so the final count is exact): a flood costs a handful of
 * D1 writes a minute, not one per request. Beyond MAX_CLIENTS_PER_MINUTE clients in a minute
 * every further client shares one "other clients" row: a global cap.
 */

/** Why the SCIM API refused a request before letting it in (src/middleware/scim-auth.ts, rate-limit.ts). */
type ScimRefusal = "no token" | "bad token" | "expired token" | "static token disabled" | "rate limited" | "service has no token";
/** Why the token endpoint refused a request (src/oauth/): its RFC 6749 §5.2 (or RFC 8628 slow_down) error code. */
export type TokenRefusal =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "slow_down"
  | "temporarily_unavailable";
export type RefusalReason = ScimRefusal | TokenRefusal;

const TOKEN_REFUSALS: ReadonlySet<RefusalReason> = new Set<TokenRefusal>([
  "invalid_request",
  "invalid_client",
  "unsupported_grant_type",
  "invalid_scope",
  "slow_down",
  "temporarily_unavailable",
]);

/** The endpoint a counted row stands for: the token endpoint's refusals, or the SCIM API's. */
export const refusedPath = (reason: RefusalReason): string => (TOKEN_REFUSALS.has(reason) ? "/oauth/token" : "/api/scim/v2");

/** Distinct (client, reason) rows per isolate and minute before the rest share one. */
export const MAX_CLIENTS_PER_MINUTE = 10;
/** The trailing write of a bucket whose count grew since it was last written. */
export const TRAILING_WRITE_MS = 1_000;
const OTHERS = "other clients";
/** A row's note is at most this long: it says which check failed, nothing a client could grow. */
const MAX_NOTE = 300;

export interface RefusalRow {
  /** Stable per row: the log row is upserted on this (provisioning_log.request_id). */
  key: string;
  client: string;
  reason: RefusalReason;
  count: number;
  firstAt: number;
  lastAt: number;
  /** What the latest refusal of the row was about, in words (a token endpoint's refusal: which check failed). */
  note?: string;
}

interface Bucket extends RefusalRow {
  writtenCount: number;
  /** A trailing write is on its way. */
  trailing: boolean;
}

/** What to do for one refusal: write its row now, and whether to schedule the trailing write. */
export interface Recorded {
  now: RefusalRow | undefined;
  /** Call after TRAILING_WRITE_MS: the row as it is then, if it changed since it was written. */
  trailing: (() => RefusalRow | undefined) | undefined;
}

export class RefusalCounter {
  /** Tells this isolate's rows from others'. Made on first use: workerd refuses random values at module scope. */
  private isolate: string | undefined;
  private minute = -1;
  private readonly buckets = new Map<string, Bucket>();

  /**
   * Counts one refusal: the row to write now (a new row, or the count doubled), and a trailing
   * write to schedule when none is on its way yet.
   */
  record(client: string, reason: RefusalReason, now = Date.now(), note?: string): Recorded {
    this.isolate ??= crypto.randomUUID().slice(0, 8);
    const isolate = this.isolate;
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.buckets.clear();
    }
    let name = `${client}|${reason}`;
    if (!this.buckets.has(name) && this.distinctClients() >= MAX_CLIENTS_PER_MINUTE) name = `${OTHERS}|${reason}`;
    const b: Bucket = this.buckets.get(name) ?? {
      key: `refused:${isolate}:${minute}:${name}`,
      client: name.startsWith(OTHERS) ? OTHERS : client,
      reason,
      count: 0,
      firstAt: now,
      lastAt: now,
      writtenCount: 0,
      trailing: false,
    };
    this.buckets.set(name, b);
    b.count++;
    b.lastAt = now;
    // The latest refusal's note; it reaches the row with the next write (never a write of its own,
    // so a client cannot buy one write per request by varying what it gets wrong).
    if (note !== undefined) b.note = note.slice(0, MAX_NOTE);
    const snapshot = (): RefusalRow => ({
      key: b.key,
      client: b.client,
      reason: b.reason,
      count: b.count,
      firstAt: b.firstAt,
      lastAt: b.lastAt,
      ...(b.note !== undefined ? { note: b.note } : {}),
    });
    if (b.count >= 2 * b.writtenCount) {
      b.writtenCount = b.count;
      return { now: snapshot(), trailing: undefined };
    }
    if (b.trailing) return { now: undefined, trailing: undefined };
    b.trailing = true;
    return {
      now: undefined,
      trailing: () => {
        b.trailing = false;
        if (b.count === b.writtenCount) return undefined;
        b.writtenCount = b.count;
        return snapshot();
      },
    };
  }

  private distinctClients(): number {
    let n = 0;
    for (const b of this.buckets.values()) if (b.client !== OTHERS) n++;
    return n;
  }
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** The row's words: "412 requests with a bad token from 203.0.113.7 between 10:01:02 and 10:01:59 UTC". */
export function describeRefusals(row: RefusalRow): string {
  const what: Record<RefusalReason, string> = {
    "no token": "with no bearer token",
    "bad token": "with a bad token",
    "expired token": "with an expired access token",
    "static token disabled": "with the static token, which staticTokenEnabled switches off",
    "rate limited": "over the rate limit",
    "service has no token": "refused because SCIM_BEARER_TOKEN is not set",
    invalid_request: "refused as invalid_request",
    invalid_client: "refused as invalid_client",
    unsupported_grant_type: "refused as unsupported_grant_type",
    invalid_scope: "refused as invalid_scope",
    slow_down: "refused as slow_down (over the token endpoint's rate)",
    temporarily_unavailable: "refused as temporarily_unavailable",
  };
  const noun = TOKEN_REFUSALS.has(row.reason) ? "token request" : "request";
  const n = row.count === 1 ? `1 ${noun}` : `${row.count} ${noun}s`;
  const when = row.firstAt === row.lastAt ? `at ${time(row.firstAt)} UTC` : `between ${time(row.firstAt)} and ${time(row.lastAt)} UTC`;
  return `${n} ${what[row.reason]} from ${row.client} ${when}${row.note ? ` (latest: ${row.note})` : ""}`;
}

/**
 * The client a rate limit, a refusal count and the admin sign-in throttle are kept for: the IPv4
 * address, or the /64 of an IPv6 address (one subscriber gets a whole /64 and could rotate through
 * it otherwise). An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2: a dual-stack
 * listener's view of an IPv4 client) is that IPv4 client: by its /64 every IPv4 client on the
 * Internet would share the one bucket `0:0:0:0::/64`.
 */
export function clientKey(address: string | undefined): string {
  const ip = address?.trim() ?? "";
  if (ip === "") return "unknown";
  if (!ip.includes(":")) return ip;
  const expanded = expandIpv6(ip);
  if (!expanded) return ip;
  const mapped = ipv4Mapped(expanded);
  return mapped ?? `${expanded.slice(0, 4).join(":")}::/64`;
}

/** The dotted IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), given as 8 groups. */
function ipv4Mapped(groups: readonly string[]): string | undefined {
  if (groups.slice(0, 5).some((g) => g !== "0") || groups[5] !== "ffff") return undefined;
  const high = Number.parseInt(groups[6] ?? "0", 16);
  const low = Number.parseInt(groups[7] ?? "0", 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

function expandIpv6(ip: string): string[] | undefined {
  const [head, tail, extra] = ip.toLowerCase().replace(/%.*$/, "").split("::");
  if (extra !== undefined) return undefined;
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  const last = right.length ? right : left;
  const v4 = last[last.length - 1];
  if (v4?.includes(".")) {
    const octets = v4.split(".").map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return undefined;
    last.splice(
      last.length - 1,
      1,
      ((octets[0] ?? 0) * 256 + (octets[1] ?? 0)).toString(16),
      ((octets[2] ?? 0) * 256 + (octets[3] ?? 0)).toString(16),
    );
  }
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array(tail === undefined ? 0 : missing).fill("0"), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}
