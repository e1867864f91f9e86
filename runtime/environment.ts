/**
 * The process-wide settings gl-rl reads from the environment:
 * - `GL_RL_CACHE_DIR`: where built artefacts are cached (the demo database dump, the demo model, the Qwen2
 *   vocabulary); default `~/.cache/gl-rl`.
 * - `GL_RL_THREADS`: how many CPU threads ggml uses — llama.cpp's contexts and the native extension
 *   alike — when a caller does not say; default the physical cores (a small model decodes on one thread:
 *   models/loadModel.ts `decodeThreads`).
 *
 * ggml's CPU threads spin at every barrier, so two processes that each take every core slow each other
 * down by orders of magnitude, not by half (measured: a 0.45 s finite-difference check took > 60 s while a
 * second jest worker decoded with 2 threads on this 2-core machine). Set `GL_RL_THREADS=1` when two gl-rl
 * processes share a small machine; the test suite does (jest.config.ts).
 *
 * @example
 * const threads = options.threads ?? defaultCpuThreads(llama.cpuMathCores);
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../errors.js";

/** Physical cores: node reports logical CPUs (x86 SMT = 2 per core); at least 1. */
function physicalCores(): number {
  const logical = availableParallelism();
  return logical <= 2 ? logical : Math.max(1, Math.floor(logical / 2));
}

/** The cache directory: `$GL_RL_CACHE_DIR` or `~/.cache/gl-rl`. */
export function cacheDir(): string {
  return process.env.GL_RL_CACHE_DIR || join(homedir(), ".cache", "gl-rl");
}

/** `GL_RL_THREADS` (a positive integer) when set, else `physical` (default: half the logical CPUs, at least 1). */
export function defaultCpuThreads(physical: number = physicalCores()): number {
  const raw = process.env.GL_RL_THREADS;
  if (raw === undefined || raw.trim() === "") return physical;
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InputError(`GL_RL_THREADS must be a positive integer, got "${raw}"`, {
      hint: "unset it to use every physical core, or set e.g. GL_RL_THREADS=1",
      context: { GL_RL_THREADS: raw },
    });
  }
  return threads;
}

let root: string | undefined;

/**
 * The gl-rl package's own folder — the checkout, or `node_modules/gl-rl` when installed — found by walking up
 * from this file (runtime/ in the sources, dist/runtime/ when built) to the package.json named "gl-rl".
 * Where shipped files (data/, trainers/native/) are read from.
 */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

function findPackageRoot(here: string): string {
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    try {
      if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "gl-rl") return dir;
    } catch {
      // an unreadable package.json is not ours: keep walking up
    }
  }
  return join(here, "..");
}
