// Which Chromium the browser test drives: CHROMIUM_PATH if set, else a system Chromium if the
// machine has one, else the one inside the @sparticuz/chromium npm package (a devDependency, so
// `npm ci && npm test` needs no browser download and no apt step). CHROMIUM_PATH=bundled forces
// the package's, to check that a bare machine passes.
import { existsSync } from "node:fs";

const SYSTEM_CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export async function chromiumExecutable() {
  const asked = process.env.CHROMIUM_PATH?.trim();
  if (asked && asked !== "bundled") {
    if (!existsSync(asked)) throw new Error(`CHROMIUM_PATH is ${asked}, which does not exist.`);
    return { path: asked, source: "CHROMIUM_PATH" };
  }
  if (!asked) {
    const system = SYSTEM_CHROMIUM.find((p) => existsSync(p));
    if (system) return { path: system, source: "system" };
  }
  // Unpacks its brotli-compressed binary (and the libraries it needs) into the temp dir, once.
  const { default: bundled } = await import("@sparticuz/chromium");
  return { path: await bundled.executablePath(), source: "@sparticuz/chromium" };
}
