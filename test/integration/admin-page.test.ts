import { describe, expect, it } from "vitest";
import { fetchWorker, ORIGIN } from "../helpers";

/** The admin page, served from the Workers static assets through the Worker (src/admin/page.ts). */

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const files = [
  { name: "the page", path: "/admin", type: /^text\/html; charset=utf-8$/ },
  { name: "the page with a slash", path: "/admin/", type: /^text\/html; charset=utf-8$/ },
  { name: "the script", path: "/admin/app.js", type: /^text\/javascript; charset=utf-8$/ },
  { name: "the stylesheet", path: "/admin/app.css", type: /^text\/css; charset=utf-8$/ },
];

describe("admin page", () => {
  for (const file of files) {
    it(`serves ${file.name} without auth, with the strict CSP, no-store and no cookies`, async () => {
      const res = await fetchWorker(`${ORIGIN}${file.path}`);
      const body = await res.text();
      expect(res.status, body.slice(0, 200)).toBe(200);
      expect(res.headers.get("content-type")).toMatch(file.type);
      expect(res.headers.get("content-security-policy")).toBe(CSP);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(body.length).toBeGreaterThan(100);
    });
  }

  it("the page has no inline code and loads nothing from another origin", async () => {
    const body = await (await fetchWorker(`${ORIGIN}/admin`)).text();
    expect(body).not.toMatch(/<script>|<script(?![^>]*\ssrc=)[^>]*>|<style|\son[a-z]+=|style=/i);
    expect(body).toMatch(/<script type="module" crossorigin src="\/admin\/app\.js"><\/script>/);
    expect(body).toMatch(/<link rel="stylesheet" crossorigin href="\/admin\/app\.css">/);
    expect(body).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it("the script is the built bundle: the typed client's paths and the chart library are in it", async () => {
    const js = await (await fetchWorker(`${ORIGIN}/admin/app.js`)).text();
    expect(js).toContain("/admin/api");
    expect(js).toContain("uplot");
    // No eval of any kind: the CSP has no 'unsafe-eval'.
    expect(js).not.toMatch(/\beval\(|new Function\(/);
  });

  it("anything else under /admin is a 404 with the same headers, not a file", async () => {
    for (const path of ["/admin/index.html", "/admin/app.js.map", "/admin/secrets"]) {
      const res = await fetchWorker(`${ORIGIN}${path}`);
      const body = await res.text();
      expect(res.status, `${path}: ${body.slice(0, 100)}`).toBe(404);
      expect(res.headers.get("content-security-policy")).toBe(CSP);
    }
  });
});
