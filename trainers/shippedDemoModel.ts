/**
 * The demo model that ships with the package, so that the first `gl-rl ask` answers in seconds instead of
 * training for minutes: `data/demo-model.gguf` — the tiny demo model (trainers/demoModel.ts) stored at q8_0
 * and tagged with the key of the recipe that made it (GGUF metadata `gl_rl.demo_model.key`).
 *
 * `ensureDemoModel` returns it only when that key equals the key of the recipe asked for. Anything that
 * feeds the key — the recipe, the train split, the vocabulary corpus, the prompt's fixed texts — changes
 * the key, and then the model is built on first use and cached as before; a stale file is never used.
 *
 * Rebuild the shipped file after such a change (≈ 7–10 min on 2 cores; the f32 build is cached):
 *   GL_RL_THREADS=1 npx gl-rl model demo --out data/demo-model.gguf --precision q8_0
 *
 * @example
 * shippedDemoModelKey(SHIPPED_DEMO_MODEL_PATH); // "a2225c2e008320bf", or undefined when absent or untagged
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ggufString, gguf, readGguf } from "../models/ggufFile.js";
import { quantizeGguf, type GgufPrecision, type QuantizeGgufResult } from "../models/quantizeGguf.js";

/** Where the package keeps it (data/ in the checkout, dist/data/ in an installed package). */
export const SHIPPED_DEMO_MODEL_PATH = fileURLToPath(new URL("../data/demo-model.gguf", import.meta.url));

/** GGUF metadata: the recipe key (trainers/demoModel.ts `demoModelKey`) and the recipe as JSON, for people. */
export const DEMO_MODEL_KEY_METADATA = "gl_rl.demo_model.key";
export const DEMO_MODEL_RECIPE_METADATA = "gl_rl.demo_model.recipe";

/** The recipe key a shipped model file is tagged with; undefined when the file is absent, unreadable or untagged. */
export function shippedDemoModelKey(path: string = SHIPPED_DEMO_MODEL_PATH): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return ggufString(readGguf(path), DEMO_MODEL_KEY_METADATA);
  } catch {
    return undefined; // a damaged file is not used: the model is built instead
  }
}

export interface WriteShippedDemoModelOptions {
  /** The f32 demo model the trainer wrote (ensureDemoModel's cache file). */
  source: string;
  out: string;
  /** The recipe key of `source` (demoModelKey with the same options). */
  key: string;
  /** The resolved recipe, stored as JSON beside the key. */
  recipe: unknown;
  /** Default "q8_0" (its dev/test execution accuracy measured against f32: docs/experiments.md). */
  precision?: GgufPrecision;
}

/** Writes `source` at `precision` to `out`, tagged with its recipe key (atomically). */
export function writeShippedDemoModel(options: WriteShippedDemoModelOptions): QuantizeGgufResult {
  return quantizeGguf(options.source, options.out, {
    precision: options.precision ?? "q8_0",
    metadata: {
      [DEMO_MODEL_KEY_METADATA]: gguf.string(options.key),
      [DEMO_MODEL_RECIPE_METADATA]: gguf.string(JSON.stringify(options.recipe)),
    },
  });
}
