#!/usr/bin/env node
// `npm run build`: the admin page (src/admin/ui/) bundled by Vite into dist/assets/admin/, the
// Workers static assets of wrangler.toml ([assets]): index.html, app.js (the page, hono/jsx/dom,
// the typed API client and uPlot) and app.css. Fixed names: the Worker serves exactly these three
// (src/admin/page.ts), with no-store, so no content hash is needed to defeat caches.
// `--watch` rebuilds on every change (npm run dev).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ADMIN_ASSETS_DIR = `${ROOT}dist/assets/admin`;

/** Whether a build is there at all (the test Worker needs the assets directory to exist). */
export const adminAssetsBuilt = () => existsSync(`${ADMIN_ASSETS_DIR}/index.html`);

/**
 * The page shows what IdPs sent (names, paths, decisions): it must reach the DOM as text only.
 * The framework can parse markup (dangerouslySetInnerHTML), so the page's own code is checked
 * here, on every build, for every way of handing a string to the HTML parser.
 */
const MARKUP_SINKS = /\b(innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|createContextualFragment)\b/;

function assertTextOnly(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) assertTextOnly(path);
    else if (/\.(ts|tsx)$/.test(entry.name)) {
      const hit = MARKUP_SINKS.exec(readFileSync(path, "utf8"));
      if (hit) throw new Error(`${path} uses ${hit[1]}: the admin page puts data into the DOM as text only (textContent, JSX text).`);
    }
  }
}

/** Builds the page once, or keeps rebuilding it with `watch` (then resolves with the watcher). */
export async function buildAdmin({ watch = false, quiet = false } = {}) {
  assertTextOnly(`${ROOT}src/admin/ui`);
  return build({
    configFile: false,
    root: `${ROOT}src/admin/ui`,
    base: "/admin/",
    logLevel: quiet ? "warn" : "info",
    publicDir: false,
    oxc: { jsx: { runtime: "automatic", importSource: "hono/jsx/dom" } },
    build: {
      outDir: ADMIN_ASSETS_DIR,
      emptyOutDir: true,
      target: "es2022",
      // One script and one stylesheet; nothing inlined (the CSP allows no inline code or data: script).
      modulePreload: false,
      cssCodeSplit: false,
      assetsInlineLimit: 0,
      sourcemap: false,
      reportCompressedSize: !quiet,
      watch: watch ? {} : null,
      rolldownOptions: {
        output: { entryFileNames: "app.js", chunkFileNames: "app-[name].js", assetFileNames: "app[extname]" },
      },
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAdmin({ watch: process.argv.includes("--watch") });
}
