// The Okta request mix: what each request type sends, which users it touches, and its targets.
// Writes always change something (a PATCH that deactivates an inactive user writes nothing), so
// each write type draws its users from its own pool and never repeats one within a lap.
import { PATCH_SCHEMA, userAttributes, userBody } from "./users.mjs";

/** A small deterministic PRNG (mulberry32): the same seed picks the same users on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(list, random) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * The service's limiter allows 6,000 requests a minute per client address (wrangler.toml), far
 * below what the bench sends on purpose; so requests come from 1,024 made-up addresses. The
 * limiter still runs on every request, as in production.
 */
const clientIp = (i) => `10.${(i >> 8) & 3}.${i & 255}.7`;

export function scimHeaders(token, i, json = false) {
  const h = { Authorization: `Bearer ${token}`, Accept: "application/scim+json", "CF-Connecting-IP": clientIp(i) };
  if (json) h["Content-Type"] = "application/scim+json";
  return h;
}

const enc = encodeURIComponent;

/** A pool walked in laps; `lap` tells the caller which way to flip the change. */
function laps(items) {
  let k = 0;
  return () => (items.length ? { item: items[k % items.length], lap: Math.floor(k++ / items.length) } : null);
}

/**
 * The request types, in the order they run. `ctx`: { api, ceiling, healthz, token, oauthToken
 * (an access token of an OAuth client), users (seeded: { id, tag, i }), total (users in the
 * directory), groupId, posted (filled by POST), run (a unique tag for this run's new users) }.
 */
export function requestTypes(ctx) {
  const random = rng(7);
  const pick = () => ctx.users[Math.floor(random() * ctx.users.length)];
  const half = Math.floor(ctx.users.length / 2);
  const order = shuffled(ctx.users, rng(11));
  const patchPool = laps(order.slice(0, half));
  const putPool = laps(order.slice(half));
  let posted = 0;
  let deleted = 0;
  let groupOps = 0;
  const lastStart = Math.max(1, ctx.total - 99);

  const get = (url, i, expect = 200) => ({ url, headers: scimHeaders(ctx.token, i), expect });
  const send = (method, url, body, i, expect) => ({
    method,
    url,
    headers: scimHeaders(ctx.token, i, true),
    body: JSON.stringify(body),
    expect,
  });

  return [
    {
      key: "lookup",
      label: 'GET /Users?filter=userName eq "…"',
      target: { ratio: 0.8, roundTrips: 1 },
      next: (i) => {
        const u = pick();
        return get(`${ctx.api}/Users?filter=${enc(`userName eq "${userAttributes(u.tag, u.i).userName}"`)}&startIndex=1&count=100`, i);
      },
    },
    { key: "get", label: "GET /Users/{id}", target: { ratio: 0.8, roundTrips: 1 }, next: (i) => get(`${ctx.api}/Users/${pick().id}`, i) },
    {
      key: "get-oauth",
      label: "GET /Users/{id}, OAuth access token",
      // The same request with an access token from POST /oauth/token: checked in memory, so within
      // 5% of the static token's ratio and the same round trips. Measured in slices alternating
      // with the static token's (bench/run.mjs phase), so both see the same machine.
      target: { ratioOf: { key: "get", factor: 0.95 }, roundTrips: 1 },
      pairedWith: "get",
      next: (i) => ({ ...get(`${ctx.api}/Users/${pick().id}`, i), headers: scimHeaders(ctx.oauthToken, i) }),
    },
    {
      key: "import-first",
      label: "GET /Users?startIndex=1&count=100",
      target: { roundTrips: 1 },
      next: (i) => get(`${ctx.api}/Users?startIndex=1&count=100`, i),
    },
    {
      key: "import-last",
      label: `GET /Users?startIndex=${lastStart}&count=100`,
      target: { roundTrips: 1, p50Within: { key: "import-first", factor: 1.5 } },
      next: (i) => get(`${ctx.api}/Users?startIndex=${lastStart}&count=100`, i),
    },
    // RFC 9865 cursor pages of the import, default order: the first, one halfway through the
    // directory and the last (ctx.cursors, minted by the bench service at those places). Keyset
    // reads: each is a range of the seq index, so they cost the same wherever they are. Without
    // the users' groups, so each page does the same work per user: the first 10,000 users are
    // members of the 10,000-member group, later ones of none.
    {
      key: "cursor-first",
      label: "GET /Users?count=100&excludedAttributes=groups&cursor=",
      target: { roundTrips: 1 },
      next: (i) => get(`${ctx.api}/Users?count=100&excludedAttributes=groups&cursor=`, i),
    },
    {
      key: "cursor-middle",
      label: "… &cursor=<halfway>",
      target: { roundTrips: 1, cpuWithin: { key: "cursor-first", factor: 1.1 } },
      next: (i) => (ctx.cursors ? get(`${ctx.api}/Users?count=100&excludedAttributes=groups&cursor=${ctx.cursors.middle}`, i) : null),
    },
    {
      key: "cursor-last",
      label: "… &cursor=<last page>",
      target: { roundTrips: 1, cpuWithin: { key: "cursor-first", factor: 1.1 } },
      next: (i) => (ctx.cursors ? get(`${ctx.api}/Users?count=100&excludedAttributes=groups&cursor=${ctx.cursors.last}`, i) : null),
    },
    {
      key: "co",
      label: 'GET /Users?filter=userName co "…"',
      // Through the trigram index (users_fts): the cost follows the matches, not the directory.
      target: { ratio: 0.5, roundTrips: 1 },
      // A fragment that matches one user in ten thousand or so: the search an admin types.
      next: (i) => {
        const u = pick();
        return get(`${ctx.api}/Users?filter=${enc(`userName co "${u.tag}${u.i}@"`)}&startIndex=1&count=100`, i);
      },
    },
    {
      key: "groups",
      label: "GET /Groups?excludedAttributes=members",
      target: { roundTrips: 1, p99Below: 600 },
      next: (i) => get(`${ctx.api}/Groups?excludedAttributes=members`, i),
    },
    {
      key: "post",
      label: "POST /Users",
      target: { ratio: 0.4, roundTrips: 2 },
      next: (i) => {
        const k = posted++;
        return {
          ...send("POST", `${ctx.api}/Users`, userBody(`P${ctx.run}_`, k), i, 201),
          onOk: (text) => ctx.posted.push(JSON.parse(text).id),
        };
      },
    },
    {
      key: "put",
      label: "PUT /Users/{id}",
      target: { ratio: 0.4, roundTrips: 2 },
      next: (i) => {
        const p = putPool();
        if (!p) return null;
        const body = userBody(p.item.tag, p.item.i, { displayName: `Bench ${p.item.tag}${p.item.i} (${ctx.run}.${p.lap})` });
        return send("PUT", `${ctx.api}/Users/${p.item.id}`, body, i, 200);
      },
    },
    {
      key: "patch",
      label: "PATCH /Users/{id} active=false",
      target: { ratio: 0.4, roundTrips: 2 },
      // Lap 0 deactivates; if the pool runs out, the next lap reactivates (still a real write).
      next: (i) => {
        const p = patchPool();
        if (!p) return null;
        const body = { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { active: p.lap % 2 === 1 } }] };
        return send("PATCH", `${ctx.api}/Users/${p.item.id}`, body, i, 200);
      },
    },
    {
      key: "group-add",
      label: "PATCH /Groups/{id} add member",
      target: { ratio: 0.4, roundTrips: 2 },
      // Adds users created by the POST phase (not yet members); past the end, removes them again.
      next: (i) => {
        if (!ctx.posted.length) return null;
        const k = groupOps++;
        const id = ctx.posted[k % ctx.posted.length];
        const add = Math.floor(k / ctx.posted.length) % 2 === 0;
        const op = add ? { op: "add", path: "members", value: [{ value: id }] } : { op: "remove", path: `members[value eq "${id}"]` };
        return send("PATCH", `${ctx.api}/Groups/${ctx.groupId}`, { schemas: [PATCH_SCHEMA], Operations: [op] }, i, 204);
      },
    },
    {
      key: "delete",
      label: "DELETE /Users/{id}",
      target: { ratio: 0.4, roundTrips: 2 },
      // Deletes the users the POST phase created; stops when they are all gone.
      next: (i) => {
        const id = ctx.posted[deleted++];
        return id === undefined
          ? null
          : { method: "DELETE", url: `${ctx.api}/Users/${id}`, headers: scimHeaders(ctx.token, i), expect: 204 };
      },
    },
  ];
}

/** The two ceilings: the Worker's no-op route and the bench Worker's single D1 SELECT. */
export function ceilingTypes(ctx) {
  const random = rng(3);
  return [
    { key: "healthz", label: "ceiling: GET /healthz (no D1)", next: () => ({ url: `${ctx.healthz}`, expect: 200 }) },
    {
      key: "single-query",
      label: "ceiling: one D1 SELECT by id",
      next: () => ({ url: `${ctx.ceiling}/?id=${ctx.users[Math.floor(random() * ctx.users.length)].id}`, expect: 200 }),
    },
  ];
}
