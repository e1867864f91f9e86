#!/usr/bin/env node
/**
 * Builds llama.cpp's `llama-server` from the source node-llama-cpp ships (`llama/gitRelease.bundle`), offline,
 * CPU only, once per llama.cpp commit. docs/remote-models.md, "llama-server from node-llama-cpp's source".
 *
 * 1. Key: the bundle's HEAD commit (`git bundle list-heads`, no clone) plus platform and arch; the binary is
 *    `<GL_RL_CACHE_DIR>/llama-server/<commit12>-<platform>-<arch>/llama-server`. Present → print it and stop.
 * 2. Lock: `mkdir <key>.lock` with the builder's pid inside, so that two test workers (or CI beside a test)
 *    build once; the other waits. A lock whose pid is dead is stale and is taken over.
 * 3. Build in `<key>.tmp-<pid>`: `git clone <bundle>`, cmake configure with only what the server needs (static
 *    libraries so the binary runs without LD_LIBRARY_PATH, no tests/examples/app, no curl/OpenSSL, no web UI and
 *    no UI download), `cmake --build --target llama-server`.
 * 4. Install atomically: the binary and build.json (commit, flags, seconds) into `<key>.tmp-<pid>/install`,
 *    renamed onto the key's folder; the temp folder is removed.
 *
 * Usage: `node scripts/buildLlamaServer.mjs [--jobs N]`. Prints the binary's path on stdout (last line);
 * progress on stderr; exit 1 on failure with the reason. GGML_NATIVE stays on (the default): -march=native is the
 * closest to the CPU variant node-llama-cpp picks at run time, which keeps greedy decoding equal to in-process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The cmake flags of the build (also written into build.json and cited in docs/remote-models.md). */
const LLAMA_SERVER_CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DGGML_BACKEND_DL=OFF",
  "-DGGML_NATIVE=ON",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_BUILD_APP=OFF",
  "-DLLAMA_BUILD_TOOLS=ON",
  "-DLLAMA_BUILD_SERVER=ON",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
];

function log(message) {
  process.stderr.write(`[gl-rl llama-server] ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(1);
}

function bundlePath() {
  const require = createRequire(join(root, "package.json"));
  let entry;
  try {
    entry = require.resolve("node-llama-cpp");
  } catch {
    fail("node-llama-cpp is not installed (npm install); its llama.cpp source is what llama-server is built from");
  }
  for (let d = dirname(entry); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, "llama", "gitRelease.bundle"))) return join(d, "llama", "gitRelease.bundle");
  }
  fail("node-llama-cpp's llama/gitRelease.bundle is missing; reinstall node-llama-cpp");
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function sleepSeconds(seconds) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: ["ignore", "ignore", "inherit"] });
  if (result.error) fail(`${command} could not start (${result.error.message}); install cmake, make and g++`);
  if (result.status !== 0) fail(`${command} ${args.slice(0, 3).join(" ")} … exited ${result.status}`);
}

const argv = process.argv.slice(2);
const jobsAt = argv.indexOf("--jobs");
const jobs = jobsAt >= 0 ? Number(argv[jobsAt + 1]) : availableParallelism();
if (!Number.isInteger(jobs) || jobs < 1) fail("--jobs takes a positive integer");

const bundle = bundlePath();
const heads = execFileSync("git", ["bundle", "list-heads", bundle], { encoding: "utf8" });
const commit = /^([0-9a-f]{40}) HEAD$/m.exec(heads)?.[1] ?? /^([0-9a-f]{40})/m.exec(heads)?.[1];
if (!commit) fail(`cannot read the commit of ${bundle}`);
const cacheRoot = join(process.env.GL_RL_CACHE_DIR || join(homedir(), ".cache", "gl-rl"), "llama-server");
const key = `${commit.slice(0, 12)}-${process.platform}-${process.arch}`;
const finalDir = join(cacheRoot, key);
const binary = join(finalDir, "llama-server");
mkdirSync(cacheRoot, { recursive: true });

const lock = join(cacheRoot, `${key}.lock`);
for (let waited = 0; !existsSync(binary); waited += 1) {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), String(process.pid));
    break;
  } catch {
    let owner = 0;
    try {
      owner = Number(readFileSync(join(lock, "pid"), "utf8"));
    } catch {}
    // A lock without a pid file for 2 s, or with a dead pid, belongs to a build that died.
    if ((owner && !pidAlive(owner)) || (!owner && waited >= 2)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (waited === 0) log(`another process (pid ${owner}) is building llama-server; waiting for it`);
    sleepSeconds(1);
  }
}

if (!existsSync(binary)) {
  process.on("exit", () => rmSync(lock, { recursive: true, force: true }));
  const temp = join(cacheRoot, `${key}.tmp-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  process.on("exit", () => rmSync(temp, { recursive: true, force: true }));
  const started = Date.now();
  log(`building llama-server ${commit.slice(0, 12)} with ${jobs} jobs (several minutes, once per llama.cpp commit)`);
  run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", bundle, join(temp, "src")], temp);
  run(
    "cmake",
    [
      "-S",
      join(temp, "src"),
      "-B",
      join(temp, "build"),
      ...LLAMA_SERVER_CMAKE_FLAGS,
      "-Wno-dev",
      "--log-level=WARNING",
    ],
    temp,
  );
  run("cmake", ["--build", join(temp, "build"), "--target", "llama-server", "-j", String(jobs)], temp);
  const built = join(temp, "build", "bin", "llama-server");
  if (!existsSync(built)) fail(`the build finished without ${built}`);
  const install = join(temp, "install");
  mkdirSync(install);
  copyFileSync(built, join(install, "llama-server"));
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  writeFileSync(
    join(install, "build.json"),
    `${JSON.stringify({ commit, flags: LLAMA_SERVER_CMAKE_FLAGS, jobs, seconds }, null, 2)}\n`,
  );
  rmSync(finalDir, { recursive: true, force: true });
  renameSync(install, finalDir);
  log(`built ${binary} in ${seconds} s`);
}
process.stdout.write(`${binary}\n`);
