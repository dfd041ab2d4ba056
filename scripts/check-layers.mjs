#!/usr/bin/env node
// Part of `npm run lint`: the folders of src/ form layers. src/scim/, src/roles/ and src/lifecycle/ are pure (they
// import nothing outside themselves but each other's pure parts: roles imports nothing, scim
// imports nothing), and no two folders import each other, directly or round a longer circle.
// Prints the folder graph's offending edges and exits 1 when a rule is broken.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(new URL("..", import.meta.url).pathname, "src");
const PURE = new Set(["scim", "roles", "lifecycle"]);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The folder a file belongs to: its first directory under src/; a file at the top is its own. */
const folderOf = (file) => {
  const rel = relative(SRC, file).split("/");
  return rel.length > 1 ? rel[0] : (rel[0] ?? "").replace(/\.tsx?$/, ".ts");
};

const edges = new Map();
const why = new Map();
for (const file of files(SRC)) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)) {
    const target = resolve(dirname(file), m[1]);
    if (!target.startsWith(SRC)) continue;
    const from = folderOf(file);
    const to = folderOf(`${target}.ts`);
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from).add(to);
    const key = `${from} → ${to}`;
    if (!why.has(key)) why.set(key, `${relative(SRC, file)} imports ${m[1]}`);
  }
}

const problems = [];
for (const folder of PURE) {
  for (const to of edges.get(folder) ?? [])
    problems.push(`src/${folder}/ is pure but imports src/${to}/ (${why.get(`${folder} → ${to}`)})`);
}

// Tarjan's strongly connected components: any component of two or more folders is a circle.
let index = 0;
const stack = [];
const state = new Map();
const components = [];
function visit(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v) ?? []) {
    if (!state.has(w)) {
      visit(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) components.push(component);
  }
}
for (const v of edges.keys()) if (!state.has(v)) visit(v);
for (const component of components) {
  const inside = new Set(component);
  const circle = [...why.entries()].filter(([key]) => {
    const [from, to] = key.split(" → ");
    return inside.has(from) && inside.has(to);
  });
  problems.push(
    `folders import each other: ${component.map((f) => `src/${f}${f.endsWith(".ts") ? "" : "/"}`).join(", ")}\n  ${circle.map(([k, w]) => `${k}: ${w}`).join("\n  ")}`,
  );
}

// Users, groups and the settings row change only through the write kernel's compare-and-set
// (src/write/cas.ts): an UPDATE or DELETE of one of them written anywhere else could skip the
// version guard. The refold (src/db/fold.ts) rewrites derived columns only (the folded copies) and
// is guarded on the version itself: a row written since it was read is left alone.
const GUARDED = [
  /\.(update|delete)\((users|groups|settings)\)/,
  /\b(UPDATE|DELETE\s+FROM)\s+(\$\{\s*)?[`"']?(users|groups|settings)\b/i,
  // The settings row is inserted only by the kernel's compare-and-set from version 0.
  /\.insert\(settings\)/,
];
const ALLOWED = new Set(["db/fold.ts:writeRefolds", "db/fold.ts:writeGroupRefolds"]);
/** The top-level function a line belongs to: the nearest declaration above it at column 0, exported or not. */
const functionAt = (lines, i) =>
  lines
    .slice(0, i + 1)
    .reverse()
    .map((l) => /^(?:export\s+)?(?:async\s+)?(?:function\s+(\w+)|const\s+(\w+)\s*=)/.exec(l))
    .find(Boolean)
    ?.slice(1)
    .find(Boolean);
for (const file of files(SRC)) {
  const rel = relative(SRC, file);
  if (rel.startsWith("write/")) continue;
  const lines = readFileSync(file, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line) || !GUARDED.some((re) => re.test(line))) return;
    if (!ALLOWED.has(`${rel}:${functionAt(lines, i)}`)) {
      problems.push(`${rel}:${i + 1} writes users, groups or settings outside the write kernel's compare-and-set (src/write/cas.ts)`);
    }
  });
}

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(
  `check-layers: ${edges.size} folders of src/ import each other in layers only; ${[...PURE].join("/, ")}/ are pure; users, groups and settings are written only by src/write/.`,
);
