import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env";

/**
 * The admin page (SPEC §10): /admin, its script /admin/app.js and stylesheet /admin/app.css, built
 * from src/admin/ui/ into the Workers static assets (wrangler.toml [assets], run_worker_first).
 * Every file goes through here, so every file carries the same headers, set in this one place.
 * No data is rendered on the server: the page reads everything through the admin API, so these
 * routes need no auth and set no cookies.
 */
export const adminPage = new Hono<AppEnv>();

/**
 * Hono's secureHeaders with a strict CSP: nothing but same-origin script, style and API calls; no
 * inline code, no framing, no form posts (the page's forms are handled by its script), no
 * base-tag or plugin tricks. X-Frame-Options for browsers that predate frame-ancestors.
 */
adminPage.use(
  "*",
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      connectSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
  }),
  async function noStore(c, next) {
    await next();
    c.header("Cache-Control", "no-store");
  },
);

/** The page's files and their media types; anything else under /admin is not one of them. */
const FILES: Record<string, { asset: string; type: string }> = {
  "/admin": { asset: "/admin/index.html", type: "text/html; charset=utf-8" },
  "/admin/": { asset: "/admin/index.html", type: "text/html; charset=utf-8" },
  "/admin/app.js": { asset: "/admin/app.js", type: "text/javascript; charset=utf-8" },
  "/admin/app.css": { asset: "/admin/app.css", type: "text/css; charset=utf-8" },
};

adminPage.get("*", async (c) => {
  const url = new URL(c.req.url);
  const file = FILES[url.pathname];
  if (!file) return c.json({ error: "not_found", detail: `Nothing at ${url.pathname}.` }, 404);
  const res = await c.env.ASSETS.fetch(new URL(file.asset, url.origin));
  if (!res.ok) {
    console.error(
      JSON.stringify({ level: "error", message: "admin page asset missing: run `npm run build`", asset: file.asset, status: res.status }),
    );
    return c.json(
      { error: "not_built", detail: "The admin page is not built into this Worker's assets: run `npm run build`, then deploy." },
      503,
    );
  }
  // A fetched Response's headers are immutable: copy it, then the middleware above adds its own.
  return new Response(res.body, { status: 200, headers: { "Content-Type": file.type } });
});
