/**
 * The GRPO trainer's one typed config object. Every field has its default in DEFAULT_GRPO_CONFIG;
 * `resolveGrpoConfig(partial)` fills defaults and throws an InputError that says how to fix a bad value
 * (as TRL's GRPOConfig.__post_init__).
 */
import { InputError } from "../errors.js";
import type { LossType } from "./grpoLoss.js";

export interface GrpoConfig {
  /** G: completions sampled per prompt. Default 8. */
  groupSize: number;
  /** Prompts per optimisation step. Default 4. */
  promptsPerStep: number;
  /** KL coefficient β against the reference (LoRA off). Default 0.04; 0 disables the KL term. */
  beta: number;
  /** Lower clip ε. Default 0.2. */
  epsilonLow: number;
  /** Upper clip ε (DAPO clip-higher: 0.28). Default 0.2. */
  epsilonHigh: number;
  /** Loss aggregation: grpo | dr_grpo | dapo. Default "dapo". */
  lossType: LossType;
  /** Divide advantages by the group std (false = Dr. GRPO). Default true. */
  scaleRewardsByStd: boolean;
  /** μ: optimisation iterations per sampled batch (old log-probs recomputed by the policy). Default 1. */
  iterations: number;
  /**
   * DAPO dynamic sampling: replace groups with zero reward variance by groups of other prompts (the same
   * prompt with new seeds when none is left), at most this many extra rounds per step. Default 0.
   */
  resampleZeroVarianceRounds: number;
  /** Sampling temperature. Default 0.9. */
  temperature: number;
  /** Max completion tokens (also dr_grpo's constant length). Default 128. */
  maxCompletionTokens: number;
  /** AdamW learning rate. Default 1e-5. */
  learningRate: number;
  /** Global gradient-norm clip; 0 = none. Default 1. */
  maxGradNorm: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  adamEpsilon: number;
  /** Steps to run. Default 100. */
  maxSteps: number;
  /**
   * Wall-clock budget of one run in minutes (evaluations included): no step starts after it; the final
   * evaluation, checkpoint and adapter.gguf follow as after maxSteps. 0 = none. Default 0.
   */
  maxMinutes: number;
  /** Dev execution accuracy every N steps; 0 = never. Default 10. */
  evalEvery: number;
  /** Checkpoint every N steps; 0 = only at the end. Default 10. */
  checkpointEvery: number;
  /** Output directory: metrics.jsonl, checkpoints, adapters, adapter.gguf. Default "runs/grpo". */
  outDir: string;
  /** RNG seed. Default 0. */
  seed: number;
}

export const DEFAULT_GRPO_CONFIG: Readonly<GrpoConfig> = Object.freeze({
  groupSize: 8,
  promptsPerStep: 4,
  beta: 0.04,
  epsilonLow: 0.2,
  epsilonHigh: 0.2,
  lossType: "dapo",
  scaleRewardsByStd: true,
  iterations: 1,
  resampleZeroVarianceRounds: 0,
  temperature: 0.9,
  maxCompletionTokens: 128,
  learningRate: 1e-5,
  maxGradNorm: 1,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  adamEpsilon: 1e-8,
  maxSteps: 100,
  maxMinutes: 0,
  evalEvery: 10,
  checkpointEvery: 10,
  outDir: "runs/grpo",
  seed: 0,
});

const LOSS_TYPES: readonly LossType[] = ["grpo", "dr_grpo", "dapo"];

export function resolveGrpoConfig(partial: Partial<GrpoConfig> = {}): GrpoConfig {
  const known = new Set(Object.keys(DEFAULT_GRPO_CONFIG));
  for (const key of Object.keys(partial)) {
    if (!known.has(key))
      throw new InputError(`unknown GRPO config field '${key}'`, { hint: `use one of: ${[...known].join(", ")}` });
  }
  const c: GrpoConfig = { ...DEFAULT_GRPO_CONFIG, ...partial };
  const need = (ok: boolean, field: keyof GrpoConfig, what: string) => {
    if (!ok)
      throw new InputError(`GRPO config: ${field} = ${JSON.stringify(c[field])} is invalid`, {
        hint: `set ${field} to ${what}`,
      });
  };
  need(
    Number.isInteger(c.groupSize) && c.groupSize >= 2,
    "groupSize",
    "an integer ≥ 2 (group-relative advantages need at least two completions per prompt)",
  );
  need(Number.isInteger(c.promptsPerStep) && c.promptsPerStep >= 1, "promptsPerStep", "an integer ≥ 1");
  need(c.beta >= 0 && Number.isFinite(c.beta), "beta", "a number ≥ 0 (0 disables the KL term)");
  need(c.epsilonLow > 0 && c.epsilonLow < 1, "epsilonLow", "a number in (0, 1), e.g. 0.2");
  need(c.epsilonHigh > 0 && Number.isFinite(c.epsilonHigh), "epsilonHigh", "a positive number, e.g. 0.2 or 0.28");
  need(LOSS_TYPES.includes(c.lossType), "lossType", `one of ${LOSS_TYPES.join(", ")}`);
  need(Number.isInteger(c.iterations) && c.iterations >= 1, "iterations", "an integer ≥ 1");
  need(
    Number.isInteger(c.resampleZeroVarianceRounds) && c.resampleZeroVarianceRounds >= 0,
    "resampleZeroVarianceRounds",
    "an integer ≥ 0",
  );
  need(
    c.temperature > 0,
    "temperature",
    "a positive number (GRPO needs sampling; log-probs are computed at this temperature)",
  );
  need(Number.isInteger(c.maxCompletionTokens) && c.maxCompletionTokens >= 1, "maxCompletionTokens", "an integer ≥ 1");
  need(c.learningRate > 0 && Number.isFinite(c.learningRate), "learningRate", "a positive number such as 1e-5");
  need(c.maxGradNorm >= 0, "maxGradNorm", "a number ≥ 0 (0 = no clipping)");
  need(Number.isInteger(c.maxSteps) && c.maxSteps >= 1, "maxSteps", "an integer ≥ 1");
  need(Number.isFinite(c.maxMinutes) && c.maxMinutes >= 0, "maxMinutes", "a number of minutes ≥ 0 (0 = no time limit)");
  need(Number.isInteger(c.evalEvery) && c.evalEvery >= 0, "evalEvery", "an integer ≥ 0 (0 = never)");
  need(Number.isInteger(c.checkpointEvery) && c.checkpointEvery >= 0, "checkpointEvery", "an integer ≥ 0");
  return c;
}
