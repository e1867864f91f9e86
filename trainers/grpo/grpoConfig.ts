/**
 * The GRPO trainer's one typed config object. Every field has its default in DEFAULT_GRPO_CONFIG — one set
 * of defaults for every way a run starts (`gl-rl train grpo` with or without `--config`, `runGrpo`,
 * `trainGrpo`); docs/grpo.md has the option table. `resolveGrpoConfig(partial)` fills defaults and throws an
 * InputError that says how to fix a bad value (as TRL's GRPOConfig.__post_init__).
 */
import { InputError } from "../../errors.js";
import { SCALE_REWARDS, type ScaleRewards } from "./groupAdvantages.js";
import {
  DEFAULT_SAMPLING_CAP,
  IMPORTANCE_SAMPLING_LEVELS,
  LOSS_TYPES,
  type ImportanceSampling,
  type LossType,
} from "./grpoLoss.js";

export interface GrpoConfig {
  /** G: completions sampled per prompt. Default 8. */
  groupSize: number;
  /** Prompts per optimisation step. Default 4. */
  promptsPerStep: number;
  /**
   * KL coefficient β against the reference: the policy the run started from (base + the starting adapter),
   * frozen — KL is 0 at step 0. Default 0.04; 0 disables the KL term (and its forward pass).
   */
  beta: number;
  /** Lower clip ε. Default 0.2. */
  epsilonLow: number;
  /** Upper clip ε. Default 0.28 (DAPO's clip-higher). */
  epsilonHigh: number;
  /** Loss aggregation (trainers/grpo/grpoLoss.ts): grpo | dr_grpo | dapo | bnpo. Default "dapo". */
  lossType: LossType;
  /** Advantage scale (trainers/grpo/groupAdvantages.ts): "group" std (GRPO), "batch" std, "none" (Dr. GRPO). Default "group". */
  scaleRewards: ScaleRewards;
  /** Importance ratio per "token" (GRPO) or per "sequence" (GSPO). Default "token". */
  importanceSampling: ImportanceSampling;
  /**
   * Completions sampled by rollout servers (trainers/rollouts/): the cap C of the truncated importance-sampling
   * correction min(π_old/π_sampler, C) of every token (TRL's vLLM correction; grpoLoss.ts). ≥ 1. Default 2.
   */
  samplingCorrectionCap: number;
  /** A completion cut at maxCompletionTokens gets no loss and leaves the token count (TRL). Default true. */
  maskTruncatedCompletions: boolean;
  /** μ: optimisation iterations per sampled batch (π_old = the log-probs of the first). Default 1. */
  iterations: number;
  /**
   * DAPO dynamic sampling: replace groups with zero reward variance by groups of other prompts (the same
   * prompt with new seeds when none is left), at most this many extra rounds per step. Default 0.
   */
  resampleZeroVarianceRounds: number;
  /** Sampling temperature T; log-probs are computed at the same T (logits / T). Default 1. */
  temperature: number;
  /** Max completion tokens (also dr_grpo's constant length). Default 128. */
  maxCompletionTokens: number;
  /**
   * Turns per episode (docs/grpo.md "Multi-turn episodes"): 1 = single-shot GRPO; N > 1 = each rollout runs ask's
   * correction loop (task/runEpisodes.ts) for up to N turns with the policy as the generator. Default 1.
   */
  turns: number;
  /**
   * Reward cost of each turn after the first: an episode's reward = its final answer's − extraTurnCost·(turns − 1),
   * so a first-turn answer beats the same answer after a correction. Default 0.05.
   */
  extraTurnCost: number;
  /** AdamW learning rate (measured on the tiny demo model's LoRA; see docs/grpo.md for real models). Default 5e-4. */
  learningRate: number;
  /** Global gradient-norm clip; 0 = none. Default 1. */
  maxGradNorm: number;
  /** AdamW decoupled weight decay. Default 0. */
  weightDecay: number;
  /** AdamW β1. Default 0.9. */
  beta1: number;
  /** AdamW β2. Default 0.999. */
  beta2: number;
  /** AdamW ε. Default 1e-8. */
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
  /** Write the step's sampled completions to <outDir>/completions.jsonl at step 1 and every N steps; 0 = never. Default 10. */
  logCompletionsEvery: number;
  /** Output directory: metrics.jsonl, completions.jsonl, checkpoints, adapters, adapter.gguf. Default "runs/grpo". */
  outDir: string;
  /** RNG seed. Default 0. */
  seed: number;
}

export const DEFAULT_GRPO_CONFIG: Readonly<GrpoConfig> = Object.freeze({
  groupSize: 8,
  promptsPerStep: 4,
  beta: 0.04,
  epsilonLow: 0.2,
  epsilonHigh: 0.28,
  lossType: "dapo",
  scaleRewards: "group",
  importanceSampling: "token",
  samplingCorrectionCap: DEFAULT_SAMPLING_CAP,
  maskTruncatedCompletions: true,
  iterations: 1,
  resampleZeroVarianceRounds: 0,
  temperature: 1,
  maxCompletionTokens: 128,
  turns: 1,
  extraTurnCost: 0.05,
  learningRate: 5e-4,
  maxGradNorm: 1,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  adamEpsilon: 1e-8,
  maxSteps: 100,
  maxMinutes: 0,
  evalEvery: 10,
  checkpointEvery: 10,
  logCompletionsEvery: 10,
  outDir: "runs/grpo",
  seed: 0,
});

/** Fields that were removed or renamed: the error says what replaces them. */
export const REPLACED_GRPO_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  scaleRewardsByStd: 'use scaleRewards: "group" (was true) or "none" (was false)',
  topK: "removed: GRPO samples exactly from softmax(logits / T), the distribution the trainer scores",
  topP: "removed: GRPO samples exactly from softmax(logits / T), the distribution the trainer scores",
});

const isNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isCount = (x: unknown, min: number): boolean => Number.isInteger(x) && (x as number) >= min;

export function resolveGrpoConfig(partial: Partial<GrpoConfig> = {}): GrpoConfig {
  const known = new Set(Object.keys(DEFAULT_GRPO_CONFIG));
  for (const key of Object.keys(partial)) {
    const replaced = REPLACED_GRPO_FIELDS[key];
    if (replaced !== undefined) throw new InputError(`GRPO config field '${key}' no longer exists`, { hint: replaced });
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
    isCount(c.groupSize, 2),
    "groupSize",
    "an integer ≥ 2 (group-relative advantages need at least two completions per prompt)",
  );
  need(isCount(c.promptsPerStep, 1), "promptsPerStep", "an integer ≥ 1");
  need(isNumber(c.beta) && c.beta >= 0, "beta", "a number ≥ 0 (0 disables the KL term)");
  need(isNumber(c.epsilonLow) && c.epsilonLow > 0 && c.epsilonLow < 1, "epsilonLow", "a number in (0, 1), e.g. 0.2");
  need(isNumber(c.epsilonHigh) && c.epsilonHigh > 0, "epsilonHigh", "a positive number, e.g. 0.2 or 0.28");
  need(LOSS_TYPES.includes(c.lossType), "lossType", `one of ${LOSS_TYPES.join(", ")}`);
  need(SCALE_REWARDS.includes(c.scaleRewards), "scaleRewards", `one of ${SCALE_REWARDS.join(", ")}`);
  need(
    IMPORTANCE_SAMPLING_LEVELS.includes(c.importanceSampling),
    "importanceSampling",
    `one of ${IMPORTANCE_SAMPLING_LEVELS.join(", ")}`,
  );
  need(
    isNumber(c.samplingCorrectionCap) && c.samplingCorrectionCap >= 1,
    "samplingCorrectionCap",
    "a number ≥ 1 (the cap of π_old/π_sampler), e.g. 2",
  );
  need(typeof c.maskTruncatedCompletions === "boolean", "maskTruncatedCompletions", "true or false");
  need(isCount(c.iterations, 1), "iterations", "an integer ≥ 1");
  need(isCount(c.resampleZeroVarianceRounds, 0), "resampleZeroVarianceRounds", "an integer ≥ 0");
  need(
    isNumber(c.temperature) && c.temperature > 0,
    "temperature",
    "a positive number (GRPO needs sampling; log-probs are computed at this temperature)",
  );
  need(isCount(c.maxCompletionTokens, 1), "maxCompletionTokens", "an integer ≥ 1");
  need(isCount(c.turns, 1) && c.turns <= 8, "turns", "an integer from 1 (single-shot) to 8, e.g. 2 (one correction)");
  need(isNumber(c.extraTurnCost) && c.extraTurnCost >= 0, "extraTurnCost", "a number ≥ 0, e.g. 0.05");
  need(isNumber(c.learningRate) && c.learningRate > 0, "learningRate", "a positive number such as 5e-4");
  need(isNumber(c.maxGradNorm) && c.maxGradNorm >= 0, "maxGradNorm", "a number ≥ 0 (0 = no clipping)");
  need(isNumber(c.weightDecay) && c.weightDecay >= 0, "weightDecay", "a number ≥ 0");
  need(isNumber(c.beta1) && c.beta1 >= 0 && c.beta1 < 1, "beta1", "a number in [0, 1), e.g. 0.9");
  need(isNumber(c.beta2) && c.beta2 >= 0 && c.beta2 < 1, "beta2", "a number in [0, 1), e.g. 0.999");
  need(isNumber(c.adamEpsilon) && c.adamEpsilon > 0, "adamEpsilon", "a positive number, e.g. 1e-8");
  need(isCount(c.maxSteps, 1), "maxSteps", "an integer ≥ 1");
  need(isNumber(c.maxMinutes) && c.maxMinutes >= 0, "maxMinutes", "a number of minutes ≥ 0 (0 = no time limit)");
  need(isCount(c.evalEvery, 0), "evalEvery", "an integer ≥ 0 (0 = never)");
  need(isCount(c.checkpointEvery, 0), "checkpointEvery", "an integer ≥ 0");
  need(isCount(c.logCompletionsEvery, 0), "logCompletionsEvery", "an integer ≥ 0 (0 = never)");
  need(typeof c.outDir === "string" && c.outDir.length > 0, "outDir", "a directory path");
  need(isCount(c.seed, 0), "seed", "an integer ≥ 0");
  return c;
}
