/**
 * How many CPU threads ggml uses — llama.cpp's contexts and the native extension alike — when a caller does
 * not say: `GLRL_THREADS` when it is set, else the physical cores.
 *
 * ggml's CPU threads spin at every barrier, so two processes that each take every core slow each other
 * down by orders of magnitude, not by half (measured: a 0.45 s finite-difference check took > 60 s while a
 * second jest worker decoded with 2 threads on this 2-core machine). Set `GLRL_THREADS=1` when two gl-rl
 * processes share a small machine; the test suite does (jest.config.ts).
 *
 * @example
 * const threads = options.threads ?? defaultCpuThreads(llama.cpuMathCores);
 */
import { availableParallelism } from "node:os";
import { InputError } from "../errors.js";

/** Physical cores: node reports logical CPUs (x86 SMT = 2 per core); at least 1. */
function physicalCores(): number {
  const logical = availableParallelism();
  return logical <= 2 ? logical : Math.max(1, Math.floor(logical / 2));
}

/** `GLRL_THREADS` (a positive integer) when set, else `physical` (default: half the logical CPUs, at least 1). */
export function defaultCpuThreads(physical: number = physicalCores()): number {
  const raw = process.env.GLRL_THREADS;
  if (raw === undefined || raw.trim() === "") return physical;
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InputError(`GLRL_THREADS must be a positive integer, got "${raw}"`, { hint: "unset it to use every physical core, or set e.g. GLRL_THREADS=1", context: { GLRL_THREADS: raw } });
  }
  return threads;
}
