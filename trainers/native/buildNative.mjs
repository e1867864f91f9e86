#!/usr/bin/env node
/**
 * Builds the native gradient extension (trainers/native/build/Release/gl_rl_native.node) offline, in seconds.
 *
 * 1. Extract `ggml/include` from node-llama-cpp's `llama/gitRelease.bundle` (the exact llama.cpp release its
 *    prebuilt libraries were built from) into trainers/native/vendor/ — third-party headers are not committed.
 * 2. Run node-gyp (a devDependency; `nodedir` points at local Node headers, so nothing downloads) against
 *    binding.gyp, which links the prebuilt `libggml-base.so` + `libggml.v0.5.0.so` of
 *    `@node-llama-cpp/linux-x64/bins/linux-x64/`.
 *
 * Usage: `node trainers/native/buildNative.mjs [--strict]` (from the repository root or anywhere). Without
 * --strict a failed compile is reported and exits 0, so that `npm install` still succeeds; CI passes --strict.
 * Exits 0 without building when the prebuilt libraries are absent (another platform): the extension is then
 * unavailable and `loadNativeAddon()` says why.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const require = createRequire(join(root, "package.json"));

const bundle = join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
const bins = join(root, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
const vendor = join(here, "vendor");
const include = join(vendor, "ggml", "include");

const strict = process.argv.includes("--strict");

function log(message) {
  process.stderr.write(`[gl-rl native] ${message}\n`);
}

if (process.platform !== "linux" || process.arch !== "x64" || !existsSync(join(bins, "libggml-base.so"))) {
  log(`skipped: no prebuilt ggml libraries at ${bins} (linux-x64 only for now)`);
  process.exit(0);
}

// ─── 1. headers from the bundle, re-extracted only when the bundle changes ────────────────────────────────
const stamp = join(vendor, "bundle.stamp");
const bundleId = String(readFileSync(join(root, "node_modules", "node-llama-cpp", "llama", "llama.cpp.info.json")));
if (!existsSync(join(include, "ggml.h")) || !existsSync(stamp) || String(readFileSync(stamp)) !== bundleId) {
  if (!existsSync(bundle)) {
    log(`cannot build: ${bundle} is missing; reinstall node-llama-cpp`);
    process.exit(1);
  }
  rmSync(vendor, { recursive: true, force: true });
  mkdirSync(vendor, { recursive: true });
  const bare = join(vendor, "llama.git");
  execFileSync("git", ["clone", "--quiet", "--bare", bundle, bare], { stdio: "inherit" });
  const tar = execFileSync("git", ["--git-dir", bare, "archive", "HEAD", "ggml/include"], { maxBuffer: 64 << 20 });
  writeFileSync(join(vendor, "include.tar"), tar);
  execFileSync("tar", ["-xf", join(vendor, "include.tar"), "-C", vendor], { stdio: "inherit" });
  rmSync(bare, { recursive: true, force: true });
  rmSync(join(vendor, "include.tar"), { force: true });
  writeFileSync(stamp, bundleId);
}

// ─── 2. node-gyp, offline ──────────────────────────────────────────────────────────────────────────────────
// node-gyp: the devDependency, else the copy npm bundles (npm sets npm_config_node_gyp for lifecycle scripts).
let nodeGyp;
try {
  nodeGyp = require.resolve("node-gyp/bin/node-gyp.js");
} catch {
  nodeGyp = process.env.npm_config_node_gyp;
}
if (!nodeGyp || !existsSync(nodeGyp)) {
  log("cannot build: node-gyp not found (install devDependencies, or run through npm, which bundles it)");
  process.exit(1);
}
const args = [nodeGyp, "rebuild", "--directory", here, "--loglevel=warn", "--jobs=max"];
// Local Node headers (Debian/NodeSource install them in /usr/include/node) keep node-gyp offline.
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
const started = Date.now();
try {
  execFileSync(process.execPath, args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, GGML_BINS: bins },
  });
} catch (error) {
  // As an npm install hook, a failed build must not fail the whole install (the agents work without it);
  // training then reports `native.missing` with this command. --strict (CI) makes it fatal.
  log(
    `build failed (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); training is unavailable until ` +
      "`node trainers/native/buildNative.mjs` succeeds (needs a C++17 compiler, make and python3)",
  );
  process.exit(strict ? 1 : 0);
}
log(`built trainers/native/build/Release/gl_rl_native.node in ${((Date.now() - started) / 1000).toFixed(1)} s`);
