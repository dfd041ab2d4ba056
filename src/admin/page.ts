import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env";
import { PAGE_CSS } from "./page-css";
import { PAGE_HTML } from "./page-html";
import { PAGE_JS_CORE } from "./page-js-core";
import { PAGE_JS_VIEWS } from "./page-js-views";

/**
 * The admin page (SPEC §10): /admin, its script /admin/app.js and stylesheet /admin/app.css.
 * No data is rendered on the server: the page is static and reads everything through the admin
 * API with the bearer token the user typed, so these routes need no auth and set no cookies.
 */
export const adminPage = new Hono<AppEnv>();

// Both halves share one function scope, so nothing leaks onto window.
const PAGE_JS = `"use strict";\n(function () {\n${PAGE_JS_CORE}\n${PAGE_JS_VIEWS}\n})();\n`;

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

adminPage.get("/", (c) => c.html(PAGE_HTML));

adminPage.get("/app.js", (c) => c.body(PAGE_JS, 200, { "Content-Type": "text/javascript; charset=utf-8" }));

adminPage.get("/app.css", (c) => c.body(PAGE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" }));
