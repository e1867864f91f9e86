#!/usr/bin/env node
/**
 * Builds dist/, what an installed package runs (`npm run build`; `npm pack` and `npm publish` run it through
 * `prepack`):
 *   1. remove dist/ — a file moved or deleted in the sources must not live on in the package;
 *   2. compile the TypeScript sources with tsconfig.build.json (JavaScript, declarations, source maps);
 *   3. copy the files the compiled code reads beside itself (each path is resolved from `import.meta.url`, so
 *      dist/ mirrors the source tree): the PGlite worker, the demo database's schema, the demo dataset, the
 *      BIRD Mini-Dev questions the tiny model's vocabulary is trimmed to (the demo model's recipe key reads
 *      them), and the shipped demo model.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

/** Source-relative paths copied to the same place under dist/. */
export const DIST_ASSETS = [
  "sql/pgliteWorker.mjs",
  "data/schema.sql",
  "data/dataset",
  "data/bird-minidev/mini_dev_postgresql.json",
  "data/bird-minidev/README.md",
  "data/demo-model.gguf",
];

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
for (const asset of DIST_ASSETS) {
  const from = join(root, asset);
  if (!existsSync(from)) {
    process.stderr.write(`build: ${asset} is missing\n`);
    process.exit(1);
  }
  mkdirSync(dirname(join(dist, asset)), { recursive: true });
  cpSync(from, join(dist, asset), { recursive: true });
}
process.stderr.write(`build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
