/**
 * The SFT trainer's one typed config object. Defaults in DEFAULT_SFT_CONFIG; `resolveSftConfig(partial)`
 * fills them and throws an InputError saying how to fix a bad value.
 */
import { InputError } from "../../errors.js";

export interface SftConfig {
  /** Training data: "train" (the project's split) or a path to a JSONL file of {question, sql[, evidence]}. Default "train". */
  dataset: string;
  /** Dev data for evaluation: "dev" or a JSONL path. Default "dev". */
  devDataset: string;
  /** Prompt style from models/promptTemplates.ts. Default "tiny". */
  promptStyle: "tiny" | "zeroShot" | "fewShot" | "reasoningFirst" | "schemaAware";
  /** Passes over the training set. Default 3. */
  epochs: number;
  /** Sequences per micro-batch. Default 8. */
  batchSize: number;
  /** Micro-batches per optimizer step. Default 1. */
  gradientAccumulation: number;
  /** Peak learning rate. Default 1e-3 (all weights of the tiny model; use ~1e-4 for LoRA). */
  learningRate: number;
  /** Linear warmup steps before the cosine decay. Default 20. */
  warmupSteps: number;
  /** Cosine floor as a fraction of the peak. Default 0.1. */
  minLearningRateRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  beta1: number;
  beta2: number;
  adamEpsilon: number;
  /** Evaluate (dev loss, and execution accuracy when an evaluator is given) every N optimizer steps; 0 = only at the end. Default 50. */
  evalEvery: number;
  /** Checkpoint every N optimizer steps; 0 = only at the end. Default 50. */
  checkpointEvery: number;
  /** Stop after this many optimizer steps (0 = the epochs decide). Default 0. */
  maxSteps: number;
  /** Output directory: metrics.jsonl, checkpoint/, weights. Default "runs/sft". */
  outDir: string;
  /** Shuffling seed. Default 0. */
  seed: number;
}

export const DEFAULT_SFT_CONFIG: Readonly<SftConfig> = Object.freeze({
  dataset: "train",
  devDataset: "dev",
  promptStyle: "tiny",
  epochs: 3,
  batchSize: 8,
  gradientAccumulation: 1,
  learningRate: 1e-3,
  warmupSteps: 20,
  minLearningRateRatio: 0.1,
  weightDecay: 0,
  maxGradNorm: 1,
  beta1: 0.9,
  beta2: 0.999,
  adamEpsilon: 1e-8,
  evalEvery: 50,
  checkpointEvery: 50,
  maxSteps: 0,
  outDir: "runs/sft",
  seed: 0,
});

export function resolveSftConfig(partial: Partial<SftConfig> = {}): SftConfig {
  const known = new Set(Object.keys(DEFAULT_SFT_CONFIG));
  for (const key of Object.keys(partial)) {
    if (!known.has(key))
      throw new InputError(`unknown SFT config field '${key}'`, { hint: `use one of: ${[...known].join(", ")}` });
  }
  const c: SftConfig = { ...DEFAULT_SFT_CONFIG, ...partial };
  const need = (ok: boolean, field: keyof SftConfig, what: string) => {
    if (!ok)
      throw new InputError(`SFT config: ${field} = ${JSON.stringify(c[field])} is invalid`, {
        hint: `set ${field} to ${what}`,
      });
  };
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  const nonNegativeInt = (v: number) => Number.isInteger(v) && v >= 0;
  need(typeof c.dataset === "string" && c.dataset.length > 0, "dataset", `"train" or the path of a JSONL file`);
  need(
    ["tiny", "zeroShot", "fewShot", "reasoningFirst", "schemaAware"].includes(c.promptStyle),
    "promptStyle",
    "tiny, zeroShot, fewShot, reasoningFirst or schemaAware",
  );
  need(positiveInt(c.epochs), "epochs", "an integer ≥ 1");
  need(positiveInt(c.batchSize), "batchSize", "an integer ≥ 1");
  need(positiveInt(c.gradientAccumulation), "gradientAccumulation", "an integer ≥ 1");
  need(c.learningRate > 0 && Number.isFinite(c.learningRate), "learningRate", "a positive number such as 1e-3");
  need(nonNegativeInt(c.warmupSteps), "warmupSteps", "an integer ≥ 0");
  need(c.minLearningRateRatio >= 0 && c.minLearningRateRatio <= 1, "minLearningRateRatio", "a number in [0, 1]");
  need(c.maxGradNorm >= 0, "maxGradNorm", "a number ≥ 0 (0 = no clipping)");
  need(nonNegativeInt(c.evalEvery), "evalEvery", "an integer ≥ 0");
  need(nonNegativeInt(c.checkpointEvery), "checkpointEvery", "an integer ≥ 0");
  need(nonNegativeInt(c.maxSteps), "maxSteps", "an integer ≥ 0 (0 = run all epochs)");
  return c;
}
