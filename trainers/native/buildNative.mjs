#!/usr/bin/env node
/**
 * Builds the native gradient extension (gl_rl_native.node) offline, in seconds. docs/native.md, "Building".
 *
 * 1. Headers: `ggml/include` extracted from node-llama-cpp's `llama/gitRelease.bundle` (the exact llama.cpp
 *    release its prebuilt libraries were built from) into <dir>/vendor/ — third-party headers are not committed.
 * 2. Link: only `libggml-base` of node-llama-cpp's prebuilt package for this platform (any variant: the file is
 *    the same in the CPU, CUDA and Vulkan builds), by soname and without an rpath — at run time it is the copy
 *    node-llama-cpp already loaded (nativeAddon.ts loads node-llama-cpp first).
 * 3. node-gyp (a dependency; else npm's bundled copy) against binding.gyp; with local Node headers
 *    (/usr/include/node, or npm's `nodedir`) nothing downloads.
 *
 * Usage: `node trainers/native/buildNative.mjs [--strict] [--out <dir>]`.
 *   --out <dir>: build there instead of in place (binding.gyp and src/ are copied; the addon lands in
 *     <dir>/build/Release/gl_rl_native.node) — what loadNativeAddon does when the package folder is not writable.
 *   --strict: a failed build exits 1. Without it the failure is reported and the exit is 0, so that
 *     `npm install` still succeeds (training is then unavailable and loadNativeAddon says why).
 * Progress goes to stderr.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const require = createRequire(join(root, "package.json"));

const argv = process.argv.slice(2);
const strict = argv.includes("--strict");
const outIndex = argv.indexOf("--out");
const dir = outIndex >= 0 ? resolve(argv[outIndex + 1] ?? ".") : here;

function log(message) {
  process.stderr.write(`[gl-rl native] ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(strict ? 1 : 0);
}

// ─── one build per folder at a time: a second process (two test workers loading a missing addon, an
// `npm install` beside a test run) waits for the first instead of compiling into the same build/ ─────────────
const lock = join(dir, ".build.lock");
mkdirSync(dir, { recursive: true });
for (let waited = 0; ; waited += 1) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    // A lock older than 10 minutes belongs to a build that died.
    try {
      if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
    } catch {}
    if (waited === 0) log(`another build of ${dir} is running; waiting for it`);
    if (waited > 600) fail(`gave up waiting for ${lock} (remove it if no build is running)`);
    execFileSync("sleep", ["1"]);
  }
}
process.on("exit", () => rmSync(lock, { recursive: true, force: true }));

// ─── node-llama-cpp and a libggml-base of this platform (found through node-llama-cpp's own resolution, so a
// hoisted install works) ────────────────────────────────────────────────────────────────────────────────────
// Its package exports only its entry point: walk up from there to the folder with its package.json.
function packageRootOf(entry) {
  for (let d = dirname(entry); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
  }
  return undefined;
}
let nlcRoot;
try {
  nlcRoot = packageRootOf(require.resolve("node-llama-cpp"));
} catch {}
if (!nlcRoot) fail("cannot build: node-llama-cpp is not installed (npm install node-llama-cpp)");
const nlcRequire = createRequire(join(nlcRoot, "package.json"));
const platform = process.platform === "darwin" ? "mac" : process.platform;
function findGgmlBase() {
  for (const suffix of ["", "-vulkan", "-cuda", "-metal"]) {
    let packageDir;
    try {
      // The packages export only dist/index.js; bins/<name>/ sits beside dist/.
      packageDir = packageRootOf(nlcRequire.resolve(`@node-llama-cpp/${platform}-${process.arch}${suffix}`));
    } catch {
      continue;
    }
    if (!packageDir) continue;
    const bins = join(packageDir, "bins");
    for (const name of existsSync(bins) ? readdirSync(bins) : []) {
      for (const lib of ["libggml-base.so", "libggml-base.dylib"]) {
        if (existsSync(join(bins, name, lib))) return join(bins, name);
      }
    }
  }
  return undefined;
}
const ggmlBase = findGgmlBase();
if (!ggmlBase) {
  fail(
    `cannot build: no prebuilt ggml of node-llama-cpp for ${platform}-${process.arch} (@node-llama-cpp/${platform}-${process.arch}); training is unavailable on this platform`,
  );
}

// ─── 1. headers from the bundle, re-extracted only when the bundle changes ────────────────────────────────
const bundle = join(nlcRoot, "llama", "gitRelease.bundle");
const vendor = join(dir, "vendor");
const include = join(vendor, "ggml", "include");
const stamp = join(vendor, "bundle.stamp");
const bundleId = String(readFileSync(join(nlcRoot, "llama", "llama.cpp.info.json")));
if (!existsSync(join(include, "ggml.h")) || !existsSync(stamp) || String(readFileSync(stamp)) !== bundleId) {
  if (!existsSync(bundle)) fail(`cannot build: ${bundle} is missing; reinstall node-llama-cpp`);
  log("extracting the ggml headers from node-llama-cpp's llama.cpp bundle");
  rmSync(vendor, { recursive: true, force: true });
  mkdirSync(vendor, { recursive: true });
  const bare = join(vendor, "llama.git");
  try {
    execFileSync("git", ["clone", "--quiet", "--bare", bundle, bare], { stdio: ["ignore", "ignore", "inherit"] });
    const tar = execFileSync("git", ["--git-dir", bare, "archive", "HEAD", "ggml/include"], { maxBuffer: 64 << 20 });
    writeFileSync(join(vendor, "include.tar"), tar);
    execFileSync("tar", ["-xf", join(vendor, "include.tar"), "-C", vendor], { stdio: "inherit" });
  } catch (error) {
    fail(
      `cannot extract the ggml headers (needs git and tar): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    );
  }
  rmSync(bare, { recursive: true, force: true });
  rmSync(join(vendor, "include.tar"), { force: true });
  writeFileSync(stamp, bundleId);
}

// ─── 2. sources (when building elsewhere) ──────────────────────────────────────────────────────────────────
if (dir !== here) {
  mkdirSync(dir, { recursive: true });
  cpSync(join(here, "binding.gyp"), join(dir, "binding.gyp"));
  cpSync(join(here, "src"), join(dir, "src"), { recursive: true });
}

// ─── 3. node-gyp, offline when Node's headers are local ────────────────────────────────────────────────────
function findNodeGyp() {
  try {
    return require.resolve("node-gyp/bin/node-gyp.js");
  } catch {}
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp))
    return process.env.npm_config_node_gyp;
  // npm's bundled copy, beside the node binary (Linux/macOS layouts).
  for (const candidate of [
    join(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
    join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
let nodeAddonApi;
try {
  // napi.h sits beside its index.js (its include_dir is relative to the cwd, which a build elsewhere changes).
  nodeAddonApi = dirname(require.resolve("node-addon-api"));
} catch {
  fail("cannot build: node-addon-api is not installed (npm install node-addon-api)");
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail("cannot build: node-gyp not found (npm install node-gyp, or run through npm, which bundles it)");
const args = [nodeGyp, "rebuild", "--directory", dir, "--loglevel=warn", "--jobs=max"];
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
const started = Date.now();
log(`compiling the native gradient extension in ${dir} (about 30 s)`);
try {
  execFileSync(process.execPath, args, {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, GGML_INCLUDE_DIR: include, GGML_BASE_DIR: ggmlBase, NODE_ADDON_API_DIR: nodeAddonApi },
  });
} catch (error) {
  fail(
    `build failed (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); training is unavailable until ` +
      "`node trainers/native/buildNative.mjs` succeeds (needs a C++17 compiler, make and python3)",
  );
}
log(`built ${join(dir, "build", "Release", "gl_rl_native.node")} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
