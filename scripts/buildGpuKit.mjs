#!/usr/bin/env node
/**
 * Builds gpu-kit/ (`npm run gpu-kit`, git-ignored): what a GPU machine without Node and without a network needs to
 * run `bash gpu-kit/run.sh --out <dir> [cuda|vulkan|cpu]` (docs/native.md, "The GPU kit"). At most 60 MiB.
 *   1. dist/ (`npm run build`) and the native addon (trainers/native/build/Release, built when missing); the device
 *      entry points bench/device*.ts transpiled beside dist/ (dist/bench/, so their `../trainers/…` imports resolve);
 *   2. app.tar.xz: `app/` = package.json, bin/, dist/, the addon, the production node_modules pruned to linux-x64
 *      (no other platform; node-llama-cpp's CUDA and Vulkan variants without their backend libraries — run.sh builds
 *      libggml-cuda.so for the GPU in hand; no TypeScript compiler, source maps or .d.ts), node-llama-cpp's llama.cpp
 *      bundle cut to its header (the trainer reads the revision from it) and the Qwen2 vocabulary GGUF taken out of
 *      it (app/cache/, GL_RL_CACHE_DIR on the device). Identical files are hard links (the CPU variants of ggml are
 *      the same bytes in every node-llama-cpp package), so tar stores them once;
 *   3. node.xz: this machine's `node` binary (xz; cached in .cache/gpu-kit by its sha256: ~1 min to compress);
 *   4. ggml-src.tar.xz: the part of node-llama-cpp's bundled llama.cpp (the commit of its binaries) that builds
 *      ggml's CUDA backend: ggml/{CMakeLists.txt,cmake,include}, ggml/src's base files and ggml/src/ggml-cuda;
 *   5. vulkan.tar.xz, only with `--vulkan`: node-llama-cpp's libggml-vulkan.so (the CI rehearsal runs the Vulkan mode);
 *   6. gpukit/ (run.sh, buildCuda.sh, torchBaseline.py, checkDeviceJson.mjs) and manifest.json (versions, sizes).
 * Staged in gpu-kit.tmp-<pid> and renamed into place; exits 1 when the kit (vulkan.tar.xz aside) exceeds 60 MiB.
 * Usage: node scripts/buildGpuKit.mjs [--out gpu-kit] [--vulkan] [--no-build]
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const outDir = resolve(root, argv.includes("--out") ? argv[argv.indexOf("--out") + 1] : "gpu-kit");
const withVulkan = argv.includes("--vulkan");
/** The limit of what the GPU machine accepts is 64 MiB with the working tree: the kit keeps 4 MiB for the rest. */
export const KIT_LIMIT_BYTES = 60 * 1024 * 1024;
const started = Date.now();
const log = (message) => process.stderr.write(`gpu-kit: ${message}\n`);
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { cwd: root, stdio: "inherit", ...options });

/** node-llama-cpp's prebuilt packages the kit carries: CPU, CUDA and Vulkan, the last two without their backend. */
const LLAMA_PACKAGES = new Set([
  "@node-llama-cpp/linux-x64",
  "@node-llama-cpp/linux-x64-cuda",
  "@node-llama-cpp/linux-x64-vulkan",
]);
/** The GPU backends themselves: libggml-cuda.so is built on the device; libggml-vulkan.so comes with --vulkan. */
const BACKEND_LIBRARIES = new Set(["libggml-cuda.so", "libggml-vulkan.so"]);
/** Production packages nothing on the device imports (node-llama-cpp imports typescript only in `inspect gpu`). */
const DROPPED_PACKAGES = new Set(["typescript", "node-gyp"]);
const DROPPED_FILE = /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.md|\.markdown)$/i;

// 1. dist/, the addon, the device entry points.
if (!argv.includes("--no-build")) run(process.execPath, [join(root, "scripts", "buildDist.mjs")]);
const addon = join(root, "trainers", "native", "build", "Release", "gl_rl_native.node");
if (!existsSync(addon)) run(process.execPath, [join(root, "trainers", "native", "buildNative.mjs"), "--strict"]);
if (!existsSync(join(root, "dist", "cli", "main.js"))) {
  log("dist/ is missing: run `npm run build` (or drop --no-build)");
  process.exit(1);
}

const stage = `${outDir}.tmp-${process.pid}`;
rmSync(stage, { recursive: true, force: true });
const app = join(stage, "app");
mkdirSync(app, { recursive: true });
const ts = createRequire(join(root, "package.json"))("typescript");
for (const file of ["package.json", "bin/gl-rl.mjs"]) {
  mkdirSync(dirname(join(app, file)), { recursive: true });
  copyFileSync(join(root, file), join(app, file));
}
cpSync(join(root, "dist"), join(app, "dist"), { recursive: true, filter: (p) => !DROPPED_FILE.test(p) });
mkdirSync(join(app, "trainers", "native", "build", "Release"), { recursive: true });
copyFileSync(addon, join(app, "trainers", "native", "build", "Release", "gl_rl_native.node"));
for (const file of readdirSync(join(root, "bench")).filter((f) => /^device\w*\.ts$/.test(f) && !f.includes(".test."))) {
  const source = readFileSync(join(root, "bench", file), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  });
  mkdirSync(join(app, "dist", "bench"), { recursive: true });
  writeFileSync(join(app, "dist", "bench", file.replace(/\.ts$/, ".js")), outputText);
}

// 2. node_modules: the production tree (npm ls), pruned.
const packageDirs = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter((p) => p.startsWith(join(root, "node_modules")))
  .map((p) => relative(root, p));
const seen = new Map(); // sha256 → staged path, for hard links
function copyTree(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === "node_modules") continue; // nested packages are listed by npm ls on their own
      mkdirSync(target, { recursive: true });
      copyTree(source, target);
    } else if (entry.isFile() && !DROPPED_FILE.test(entry.name) && !BACKEND_LIBRARIES.has(entry.name)) {
      const size = statSync(source).size;
      const hash = size > 65536 ? createHash("sha256").update(readFileSync(source)).digest("hex") : null;
      if (hash && seen.has(hash)) linkSync(seen.get(hash), target);
      else {
        copyFileSync(source, target);
        chmodSync(target, statSync(source).mode);
        if (hash) seen.set(hash, target);
      }
    }
  }
}
for (const dir of packageDirs) {
  const name = dir.replace(/^.*?node_modules\//, "");
  if (DROPPED_PACKAGES.has(name)) continue;
  if (name.startsWith("@node-llama-cpp/") && !LLAMA_PACKAGES.has(name)) continue;
  mkdirSync(join(app, dir), { recursive: true });
  copyTree(join(root, dir), join(app, dir));
}
// The bundle's header only: `git bundle list-heads` (models/qwen2Vocabulary.ts) reads the revision from it.
const bundle = join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
const bundleBytes = readFileSync(bundle);
const header = bundleBytes.subarray(0, bundleBytes.indexOf("\n\n") + 2);
writeFileSync(join(app, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle"), header);
const revision = /^([0-9a-f]{40}) /m.exec(header.toString("latin1"))?.[1];
if (!revision) {
  log(`cannot read the revision of ${bundle}`);
  process.exit(1);
}

// The Qwen2 vocabulary and the ggml sources, out of the bundle (git, offline).
const scratch = mkdtempSync(join(tmpdir(), "gpu-kit-bundle-"));
try {
  execFileSync("git", ["init", "-q", "--bare", join(scratch, "repo")]);
  execFileSync("git", ["-C", join(scratch, "repo"), "fetch", "-q", bundle, "HEAD"]);
  mkdirSync(join(app, "cache"), { recursive: true });
  writeFileSync(
    join(app, "cache", `ggml-vocab-qwen2-${revision.slice(0, 12)}.gguf`),
    execFileSync("git", ["-C", join(scratch, "repo"), "show", "FETCH_HEAD:models/ggml-vocab-qwen2.gguf"], {
      maxBuffer: 64 << 20,
    }),
  );
  const tree = join(scratch, "tree");
  mkdirSync(tree);
  execFileSync("sh", ["-c", `git -C "${join(scratch, "repo")}" archive FETCH_HEAD ggml | tar -x -C "${tree}"`]);
  const src = join(tree, "ggml", "src");
  const keep = [
    "ggml/CMakeLists.txt",
    "ggml/cmake",
    "ggml/include",
    "ggml/src/ggml-cuda",
    ...readdirSync(src)
      .filter((f) => statSync(join(src, f)).isFile())
      .map((f) => `ggml/src/${f}`),
  ];
  writeFileSync(join(tree, "REVISION"), `${revision}\n`);
  execFileSync("sh", [
    "-c",
    `tar -C "${tree}" -cf - REVISION ${keep.join(" ")} | xz -T0 -6 > "${stage}/ggml-src.tar.xz"`,
  ]);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// 3. node.xz, cached by the binary's hash.
const nodeHash = createHash("sha256").update(readFileSync(process.execPath)).digest("hex").slice(0, 16);
const nodeCache = join(root, ".cache", "gpu-kit", `node-${process.version}-${nodeHash}.xz`);
if (!existsSync(nodeCache)) {
  log(`compressing ${process.execPath} (${process.version}) with xz (about a minute)`);
  mkdirSync(dirname(nodeCache), { recursive: true });
  execFileSync("sh", [
    "-c",
    `xz -T0 -3 -c "${process.execPath}" > "${nodeCache}.tmp" && mv "${nodeCache}.tmp" "${nodeCache}"`,
  ]);
}
copyFileSync(nodeCache, join(stage, "node.xz"));

execFileSync("sh", ["-c", `tar -C "${stage}" -cf - app | xz -T0 -6 > "${stage}/app.tar.xz"`]);
rmSync(app, { recursive: true, force: true });
if (withVulkan) {
  const lib = "node_modules/@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan/libggml-vulkan.so";
  mkdirSync(dirname(join(stage, "vk", "app", lib)), { recursive: true });
  copyFileSync(join(root, lib), join(stage, "vk", "app", lib));
  execFileSync("sh", ["-c", `tar -C "${stage}/vk" -cf - app | xz -T0 -6 > "${stage}/vulkan.tar.xz"`]);
  rmSync(join(stage, "vk"), { recursive: true, force: true });
}

// 6. The scripts and the manifest.
for (const file of readdirSync(join(root, "gpukit")).filter((f) => !f.startsWith("__"))) {
  copyFileSync(join(root, "gpukit", file), join(stage, file));
  if (file.endsWith(".sh")) chmodSync(join(stage, file), 0o755);
}
const packageVersion = (name) =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
const files = Object.fromEntries(readdirSync(stage).map((f) => [f, statSync(join(stage, f)).size]));
const kitBytes = Object.entries(files)
  .filter(([f]) => f !== "vulkan.tar.xz")
  .reduce((sum, [, size]) => sum + size, 0);
const manifest = {
  glRl: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
  node: process.version,
  nodeLlamaCpp: packageVersion("node-llama-cpp"),
  llamaCppRevision: revision,
  vulkan: existsSync(join(stage, "vulkan.tar.xz")),
  kitBytes,
  limitBytes: KIT_LIMIT_BYTES,
  files,
  builtAt: new Date().toISOString(),
};
writeFileSync(join(stage, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
rmSync(outDir, { recursive: true, force: true });
renameSync(stage, outDir);
const mib = (n) => (n / 1048576).toFixed(1);
log(
  `${basename(outDir)}/ in ${((Date.now() - started) / 1000).toFixed(0)} s: ${mib(kitBytes)} MiB (limit ${mib(KIT_LIMIT_BYTES)})` +
    `${manifest.vulkan ? `, + vulkan.tar.xz ${mib(files["vulkan.tar.xz"])} MiB` : ""}; ${Object.entries(files)
      .map(([f, s]) => `${f} ${mib(s)}`)
      .join(", ")}`,
);
if (kitBytes > KIT_LIMIT_BYTES) {
  log(`the kit is over ${mib(KIT_LIMIT_BYTES)} MiB: the GPU machine takes at most 64 MiB with the working tree`);
  process.exit(1);
}
