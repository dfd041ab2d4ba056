import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  license: string;
  files: string[];
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies?: Record<string, string>;
};

describe("the package as published", () => {
  it("names, versions and licenses itself, and ships its build, schemas, README and licence", () => {
    expect(pkg.name).toMatch(/^(@[a-z0-9-]+\/)?[a-z0-9-]+$/);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.license).toBe("MIT");
    expect(pkg.files.sort()).toEqual(["LICENSE", "README.md", "dist", "schemas"]);
    for (const file of ["README.md", "LICENSE"]) expect(existsSync(join(ROOT, file)), file).toBe(true);
    // No runtime dependency at all: it ships alone (hono is an optional peer, for types).
    expect(pkg.dependencies).toBeUndefined();
  });

  it("every export points at a built file (npm run build), and the entry points load under Node", async () => {
    for (const [path, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      for (const file of [target.types, target.default]) expect(existsSync(join(ROOT, file)), `${path}: ${file}`).toBe(true);
      const mod = (await import(join(ROOT, target.default))) as Record<string, unknown>;
      expect(Object.keys(mod).length, path).toBeGreaterThan(0);
    }
    const main = (await import(join(ROOT, "dist", "index.js"))) as Record<string, unknown>;
    for (const name of ["verify", "sign", "createReplica", "shouldApply", "EVENT_TYPES"]) expect(main[name], name).toBeDefined();
  });

  it("its JSON Schemas are there, one per event type", async () => {
    const { EVENT_TYPES } = (await import(join(ROOT, "dist", "index.js"))) as { EVENT_TYPES: string[] };
    expect(readdirSync(join(ROOT, "schemas")).sort()).toEqual(EVENT_TYPES.map((t) => `${t}.json`).sort());
  });

  it("its source imports nothing but itself (and hono's types): it must not reach into the service", () => {
    for (const file of readdirSync(join(ROOT, "src"))) {
      const text = readFileSync(join(ROOT, "src", file), "utf8");
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
        const target = m[1] ?? "";
        const ok = /^\.\/[a-z-]+\.js$/.test(target) || (target === "hono" && /import type/.test(m[0]));
        expect(ok, `${file} imports ${target}`).toBe(true);
      }
    }
  });
});
