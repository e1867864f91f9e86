/**
 * The tiny demo model: the tiny Qwen2-architecture GGUF (models/writeTinyModel.ts) trained on the demo
 * dataset's train split, built on first use and cached.
 *
 *   1. init      writeTinyModel(dims, seed) — random weights, trimmed Qwen2 vocabulary (deterministic bytes)
 *   2. data      train split + literal-swapped copies (data/literalAugmentation.ts: teaches copying the
 *                question's filter values, which dev/test change) → prompt style "tiny" (question +
 *                evidence, then "SQL:") → trainingTokens (completion = the bare SQL + EOS; loss on it only)
 *   3. train     all-weights SFT through NativePolicy (trainers/sft/sftTrainer.ts): AdamW, linear warmup then
 *                cosine decay, global-norm clipping; checkpoints in a work folder so a killed build resumes
 *   4. save      policy.saveWeights → <cacheDir>/demo-model-<key>.gguf (temp + rename in the extension)
 * key = sha256(tiny model dims, recipe (version, seed, SFT settings), train file bytes, vocabulary corpus).
 * The same key always gives the same file, so the build runs once per machine — and not at all where the
 * package's shipped model (trainers/shippedDemoModel.ts: data/demo-model.gguf, q8_0) carries the same key.
 *
 * @example
 * const path = await ensureDemoModel();               // the shipped file: instant (else ≈ 7–10 min once on 2 cores)
 * const quick = await ensureDemoModel({ steps: 30 }); // a short build for tests (separate cache entry)
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { DEMO_DATASET_DIR, DATASET_SPLITS, loadDataset, type DatasetSplit } from "../data/loadDataset.js";
import { readGguf } from "../models/ggufFile.js";
import { loadModel } from "../models/loadModel.js";
import { cacheDir } from "../runtime/environment.js";
import { tinyModelCorpusTexts } from "../models/tinyModelCorpus.js";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel, type TinyModelDims } from "../models/writeTinyModel.js";
import { mulberry32 } from "../runtime/mulberry32.js";
import { openDatabase } from "../sql/openDatabase.js";
import { databaseTextValues } from "../data/databaseValues.js";
import { augmentLiterals, sqlStringLiterals } from "../data/literalAugmentation.js";
import { vocabularyWords } from "../data/vocabularyWords.js";
import { NativePolicy } from "./nativePolicy.js";
import { resolveSftConfig, type SftConfig } from "./sft/sftConfig.js";
import { sftExamples } from "./sft/sftExamples.js";
import { trainSft, type SftExample } from "./sft/sftTrainer.js";
import type { TrainingProgressFactory } from "./trainingProgress.js";
import { SHIPPED_DEMO_MODEL_PATH, shippedDemoModelKey } from "./shippedDemoModel.js";

/** How the demo model is made. Changing any field changes the cache key. */
export interface DemoModelRecipe {
  /** Bumped whenever the build procedure changes in a way the other fields do not show. */
  version: number;
  dims: TinyModelDims;
  /** Seed of the random initial weights. */
  initSeed: number;
  /** Std of the initial weights. */
  initStd: number;
  /** Literal-swapped variants added per train item (data/literalAugmentation.ts); 0 = none. */
  augmentCopies: number;
  /**
   * Where swapped-in strings come from: absent = the train SQL's literals; "database" = those plus every
   * enumerable text value of the demo database (data/databaseValues.ts), so that the model has emitted
   * each value the database holds at least once; "vocabulary" = those plus made-up values spelled with
   * random tokens of the model's vocabulary (data/vocabularyWords.ts), so that only copying — not recall — gives
   * them. Absent from the default recipe (keeps its cache key).
   */
  augmentPool?: "database" | "vocabulary";
  /**
   * Share of the training examples (after augmentation; a seeded draw) whose evidence is left out, so the
   * model also answers questions asked without business definitions. Absent = 0.
   */
  evidenceDropout?: number;
  /** SFT settings (all weights; prompt style "tiny"). */
  sft: Pick<
    SftConfig,
    | "epochs"
    | "batchSize"
    | "gradientAccumulation"
    | "learningRate"
    | "warmupSteps"
    | "minLearningRateRatio"
    | "weightDecay"
    | "maxGradNorm"
    | "beta1"
    | "beta2"
    | "adamEpsilon"
    | "seed"
  >;
}

/**
 * The recipe of the demo model: d=128, 4 layers, all weights; the 399 train pairs + 2 literal-swapped
 * copies of each pair that has a copyable literal (1,143 examples); batch 8, 8 epochs = 1,144 AdamW steps,
 * peak lr 2e-3 after 50 warmup steps, cosine to 5 %; 30 % of the examples (a seeded draw) without their
 * evidence, so the model also answers questions asked without it. Sized to finish within 15 min on a
 * 2-core machine (7.0 min measured, quiet).
 */
export const demoModelRecipe: Readonly<DemoModelRecipe> = Object.freeze({
  version: 3,
  dims: { ...DEFAULT_TINY_MODEL_DIMS },
  initSeed: 0,
  initStd: 0.02,
  augmentCopies: 2,
  sft: {
    epochs: 8,
    batchSize: 8,
    gradientAccumulation: 1,
    learningRate: 2e-3,
    warmupSteps: 50,
    minLearningRateRatio: 0.05,
    weightDecay: 0,
    maxGradNorm: 1,
    beta1: 0.9,
    beta2: 0.98,
    adamEpsilon: 1e-8,
    seed: 0,
  },
  evidenceDropout: 0.3,
});

export interface EnsureDemoModelOptions {
  /** Phases of the build (the steps show on the trainer's progress bar). */
  onProgress?: (event: { phase: "init" | "tokenize" | "train" | "save" | "done" }) => void;
  /** Stop after this many optimizer steps (the cosine schedule spans them): a quick, weaker model for tests. Default: the recipe's epochs. */
  steps?: number;
  /** Overrides of the recipe (experiments); part of the cache key. */
  recipe?: Partial<Omit<DemoModelRecipe, "sft">> & { sft?: Partial<DemoModelRecipe["sft"]> };
  /** Rebuild even if the cached file exists (the shipped file is then not used either). */
  force?: boolean;
  /**
   * The shipped model to return when its recipe key equals this recipe's (trainers/shippedDemoModel.ts);
   * default the package's data/demo-model.gguf; false = always the cached build.
   */
  shipped?: string | false;
  /** Progress of the training steps (the CLI passes cli/progressBar.ts); absent = silent. */
  progress?: TrainingProgressFactory;
  /** Training dataset: a split name or JSONL path. Default "train". */
  dataset?: string;
  /** ggml threads of the trainer (not part of the key); default NativePolicy's (physical cores). */
  threads?: number;
}

/** Resolves the recipe with overrides. */
function resolveRecipe(options: EnsureDemoModelOptions): DemoModelRecipe {
  const o = options.recipe ?? {};
  return {
    ...demoModelRecipe,
    ...o,
    dims: { ...demoModelRecipe.dims, ...o.dims },
    sft: { ...demoModelRecipe.sft, ...o.sft },
  };
}

function datasetPath(dataset: string): string {
  return DATASET_SPLITS.includes(dataset as DatasetSplit) ? join(DEMO_DATASET_DIR, `${dataset}.jsonl`) : dataset;
}

/** The cache key: dims, recipe, steps, the train file's bytes and the vocabulary corpus. */
export function demoModelKey(options: EnsureDemoModelOptions = {}): string {
  const path = datasetPath(options.dataset ?? "train");
  if (!existsSync(path))
    throw new InputError(`demo model: dataset file not found: ${path}`, {
      hint: "pass a demo split name or a JSONL file of {question, sql[, evidence]}",
    });
  return createHash("sha256")
    .update(JSON.stringify({ recipe: resolveRecipe(options), steps: options.steps ?? 0 }))
    .update("\0")
    .update(readFileSync(path))
    .update("\0")
    .update(tinyModelCorpusTexts().join("\0"))
    .digest("hex")
    .slice(0, 16);
}

/** The shipped model file when it was made by this recipe (same key), else undefined. */
function matchingShippedModel(key: string, options: EnsureDemoModelOptions): string | undefined {
  if (options.force || options.shipped === false) return undefined;
  const path = options.shipped ?? SHIPPED_DEMO_MODEL_PATH;
  return shippedDemoModelKey(path) === key ? path : undefined;
}

/**
 * The path of the demo model with these options: the shipped file when its key matches, else the cache
 * entry (whether built yet or not).
 */
export function demoModelPath(options: EnsureDemoModelOptions = {}): string {
  const key = demoModelKey(options);
  return matchingShippedModel(key, options) ?? join(cacheDir(), `demo-model-${key}.gguf`);
}

/**
 * Returns the path of the trained tiny demo GGUF: the shipped file when it was made by this recipe, else
 * the cached build, building it on first use (see the file comment). A build killed midway resumes from
 * its work folder's checkpoint on the next call.
 */
export async function ensureDemoModel(options: EnsureDemoModelOptions = {}): Promise<string> {
  if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1)) {
    throw new InputError(`demo model: steps must be a positive integer, got ${options.steps}`);
  }
  const key = demoModelKey(options);
  const shipped = matchingShippedModel(key, options);
  if (shipped) {
    options.onProgress?.({ phase: "done" });
    return shipped;
  }
  const out = join(cacheDir(), `demo-model-${key}.gguf`);
  if (existsSync(out) && !options.force) {
    options.onProgress?.({ phase: "done" });
    return out;
  }
  const recipe = resolveRecipe(options);
  const work = `${out.slice(0, -".gguf".length)}.work`;
  const lock = `${work}.lock`;
  mkdirSync(cacheDir(), { recursive: true });
  await acquireBuildLock(lock);
  try {
    if (existsSync(out) && !options.force) return out; // another process built it while we waited
    if (options.force) rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    await buildDemoModel(options, recipe, work, out);
  } finally {
    rmSync(lock, { force: true });
  }
  options.onProgress?.({ phase: "done" });
  return out;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * One build per cache entry across processes: the lock file holds the builder's pid (created with O_EXCL);
 * others wait while that process lives; a dead builder's lock is taken over (its work folder resumes).
 */
async function acquireBuildLock(lock: string): Promise<void> {
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = existsSync(lock) ? Number(readFileSync(lock, "utf8")) : 0;
    if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** The train SQL's string literals and the demo database's enumerable text values, sorted. */
async function databaseLiteralPool(items: readonly { sql: string }[]): Promise<string[]> {
  const db = await openDatabase("demo");
  try {
    const values = [...(await databaseTextValues(db)).values()].flat();
    return [...new Set([...sqlStringLiterals(items), ...values])].sort();
  } finally {
    await db.close();
  }
}

/** The train SQL's string literals and `count` made-up vocabulary values (not a held-out literal), sorted. */
async function vocabularyLiteralPool(
  items: readonly { sql: string }[],
  modelPath: string,
  seed: number,
  count = 4000,
): Promise<string[]> {
  const tokens = readGguf(modelPath).metadata.get("tokenizer.ggml.tokens");
  if (tokens?.type !== "array") throw new InputError(`demo model: ${modelPath} has no tokenizer.ggml.tokens`);
  const heldOut = new Set<string>();
  for (const split of DATASET_SPLITS.filter((s) => s !== "train"))
    for (const v of sqlStringLiterals(await loadDataset(split))) heldOut.add(v);
  return [
    ...new Set([...sqlStringLiterals(items), ...vocabularyWords(tokens.value as string[], count, seed, heldOut)]),
  ].sort();
}

/** init → tokenize → train → save (see the file comment). */
async function buildDemoModel(
  options: EnsureDemoModelOptions,
  recipe: DemoModelRecipe,
  work: string,
  out: string,
): Promise<void> {
  options.onProgress?.({ phase: "init" });
  const initPath = join(work, "init.gguf");
  if (!existsSync(initPath))
    await writeTinyModel({ out: initPath, seed: recipe.initSeed, dims: recipe.dims, initStd: recipe.initStd });

  options.onProgress?.({ phase: "tokenize" });
  const trainItems = await loadDataset(options.dataset ?? "train");
  const pool =
    recipe.augmentPool === "database"
      ? await databaseLiteralPool(trainItems)
      : recipe.augmentPool === "vocabulary"
        ? await vocabularyLiteralPool(trainItems, initPath, recipe.sft.seed)
        : undefined;
  const augmented = augmentLiterals(trainItems, {
    copies: recipe.augmentCopies,
    seed: recipe.sft.seed,
    ...(pool ? { pool } : {}),
  });
  const drop = mulberry32(recipe.sft.seed + 1);
  const items = augmented.map((item) => (drop() < (recipe.evidenceDropout ?? 0) ? { ...item, evidence: "" } : item));
  const tokenizer = await loadModel({ model: initPath, gpu: false, sequences: 1, contextSize: 64 });
  let train: SftExample[];
  try {
    train = sftExamples(tokenizer, items, { style: "tiny" });
  } finally {
    await tokenizer.dispose();
  }

  const config = resolveSftConfig({
    ...recipe.sft,
    promptStyle: "tiny",
    outDir: work,
    evalEvery: 0,
    checkpointEvery: 100,
    maxSteps: options.steps ?? 0,
  });
  options.onProgress?.({ phase: "train" });
  const policy = await NativePolicy.create({
    modelPath: initPath,
    trainable: "all",
    ...(options.threads ? { threads: options.threads } : {}),
  });
  try {
    await trainSft({ policy, train, config, ...(options.progress ? { progress: options.progress } : {}) });
    options.onProgress?.({ phase: "save" });
    await policy.saveWeights(out);
  } finally {
    await policy.dispose();
  }
  rmSync(work, { recursive: true, force: true });
}
