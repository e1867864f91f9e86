/**
 * One GRPO step, as a short run of named calls (CONTRIBUTING.md "How the code reads" #2; docs/grpo.md):
 *
 *   1. sampleGroups     G completions per prompt from the sampler (current adapter), temperature T
 *   2. scoreRewards     extract SQL → validate/execute/compare → weighted reward + every component
 *   3. groupAdvantages  A_i = (r_i − mean)/(std + ε) per group (or mean-only, Dr. GRPO); zero-variance groups counted
 *   4. old / ref        log π_old of the sampled tokens recomputed by the policy; log π_ref (LoRA off) when β > 0
 *   5. μ iterations of: logp (current θ) → grpoLoss → policy.accumulateGradients(c) → policy.step(AdamW)
 *   6. policy.saveWeights(a NEW path, atomically) → sampler.setAdapter(path)  (the next rollout samples it)
 *
 * Letters: P = prompts per step, G = group size, B = P·G sequences, C_i = completion tokens of sequence i.
 */
import type { RewardCandidate } from "../rewards/prepareRewardSamples.js";
import { groupAdvantages } from "./groupAdvantages.js";
import type { WeightedRewardResult } from "../rewards/weightedReward.js";
import type { CandidateOptions, Completion, GenerationParams, Prompt } from "../models/textGenerator.js";
import type { GrpoConfig } from "./grpoConfig.js";
import { grpoLoss } from "./grpoLoss.js";
import type { PolicyBackend, TokenSequence } from "./policyBackend.js";

/** One training prompt: what the sampler sees and the token ids the policy sees. */
export interface GrpoPrompt {
  question: string;
  goldSql?: string;
  prompt: Prompt;
  /** The rendered prompt's token ids (models/promptTemplates.ts `trainingTokens`), [T_prompt]. */
  promptTokens: number[];
}

/** The sampler subset the step needs (a LoadedModel has it). */
export interface GrpoSampler {
  generateCandidates(
    prompt: Prompt,
    n: number,
    params?: Partial<GenerationParams> & CandidateOptions,
    signal?: AbortSignal,
  ): Promise<Completion[]>;
  setAdapter(path: string): Promise<unknown>;
}

export interface GrpoStepDependencies {
  policy: PolicyBackend;
  sampler: GrpoSampler;
  /** Completion text → SQL (models/extractSql.ts). */
  extractSql(text: string): string | null;
  /** prepareRewardSamples + a weighted reward. */
  scoreRewards(candidates: RewardCandidate[]): Promise<WeightedRewardResult>;
  /** Where this step's adapter goes; a new path every step. */
  adapterPath(step: number): string;
}

export interface GrpoStepMetrics {
  step: number;
  loss: number;
  klMean: number;
  clipFraction: number;
  gradNorm: number;
  rewardMean: number;
  rewardStd: number;
  /** Per component: mean and std over samples where it applied (null if it never did). */
  rewardComponents: Record<string, { mean: number | null; std: number | null }>;
  /** Groups with all-equal rewards in the final batch (after any resampling). */
  zeroVarianceGroups: number;
  /** Zero-variance groups in the first sampling round. */
  zeroVarianceGroupsSampled: number;
  completionLengthMean: number;
  tokensPerSecond: number;
  /** Time split, milliseconds. */
  timings: { sampleMs: number; rewardMs: number; logprobsMs: number; updateMs: number; swapMs: number };
  adapter: string;
}

const meanStd = (xs: readonly number[]): { mean: number; std: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return { mean, std: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, xs.length)) };
};

/** 1. G completions for each prompt, [P][G]; prompts sampled concurrently (the sampler shares batches). */
export async function sampleGroups(
  sampler: GrpoSampler,
  prompts: readonly GrpoPrompt[],
  config: Pick<GrpoConfig, "groupSize" | "temperature" | "maxCompletionTokens" | "seed">,
  step: number,
): Promise<Completion[][]> {
  return Promise.all(
    prompts.map((p, k) =>
      sampler.generateCandidates(p.prompt, config.groupSize, {
        temperatures: new Array<number>(config.groupSize).fill(config.temperature),
        seeds: Array.from(
          { length: config.groupSize },
          (_, i) => config.seed + step * 100_003 + k * config.groupSize + i,
        ),
        maxTokens: config.maxCompletionTokens,
      }),
    ),
  );
}

/** 2. Extract SQL from every completion and score the batch, [P·G]. */
export async function scoreGroups(
  groups: readonly Completion[][],
  prompts: readonly GrpoPrompt[],
  deps: Pick<GrpoStepDependencies, "extractSql" | "scoreRewards">,
): Promise<WeightedRewardResult> {
  const candidates: RewardCandidate[] = groups.flatMap((group, k) =>
    group.map((c) => ({
      question: prompts[k]!.question,
      completion: c.text,
      sql: deps.extractSql(c.text),
      ...(prompts[k]!.goldSql === undefined ? {} : { goldSql: prompts[k]!.goldSql }),
    })),
  );
  return deps.scoreRewards(candidates);
}

/**
 * One step on `prompts` (P of them). `reserve`: further prompts that dynamic sampling
 * (config.resampleZeroVarianceRounds) draws, in order, to replace groups without reward variance.
 */
export async function grpoStep(
  step: number,
  prompts: readonly GrpoPrompt[],
  deps: GrpoStepDependencies,
  config: GrpoConfig,
  reserve: readonly GrpoPrompt[] = [],
): Promise<GrpoStepMetrics> {
  const t0 = performance.now();
  let groups = await sampleGroups(deps.sampler, prompts, config, step);
  const t1 = performance.now();

  const rewards = await scoreGroups(groups, prompts, deps);
  let { advantages, zeroVarianceGroups, zeroVarianceGroupIndices } = groupAdvantages(rewards.totals, {
    groupSize: config.groupSize,
    scaleByStd: config.scaleRewardsByStd,
  });
  const zeroVarianceGroupsSampled = zeroVarianceGroups;
  // DAPO dynamic sampling: a group with no reward variance carries no gradient, so its slot is refilled —
  // with the next unused prompt of `reserve` (DAPO: over-sample and filter), or the same prompt with new
  // seeds when the reserve is spent — a bounded number of rounds.
  const batchPrompts = prompts.slice();
  let nextReserve = 0;
  for (let round = 1; round <= config.resampleZeroVarianceRounds && zeroVarianceGroups > 0; round += 1) {
    const replacements = zeroVarianceGroupIndices.map((g) => reserve[nextReserve++] ?? batchPrompts[g]!);
    const again = await sampleGroups(
      deps.sampler,
      replacements,
      { ...config, seed: config.seed + round * 7_919 },
      step,
    );
    const againRewards = await scoreGroups(again, replacements, deps);
    groups = groups.slice();
    zeroVarianceGroupIndices.forEach((g, k) => {
      groups[g] = again[k]!;
      batchPrompts[g] = replacements[k]!;
      const G = config.groupSize;
      rewards.totals.splice(g * G, G, ...againRewards.totals.slice(k * G, (k + 1) * G));
      for (const name of Object.keys(rewards.components))
        rewards.components[name]!.splice(g * G, G, ...againRewards.components[name]!.slice(k * G, (k + 1) * G));
    });
    ({ advantages, zeroVarianceGroups, zeroVarianceGroupIndices } = groupAdvantages(rewards.totals, {
      groupSize: config.groupSize,
      scaleByStd: config.scaleRewardsByStd,
    }));
  }
  const t2 = performance.now();

  const batch: TokenSequence[] = groups.flatMap((group, k) =>
    group.map((c) => ({
      tokens: [...batchPrompts[k]!.promptTokens, ...c.tokens],
      completionStart: batchPrompts[k]!.promptTokens.length,
    })),
  );
  // Log-probs at the sampling temperature (logits / T), as TRL computes them.
  const temperature = config.temperature;
  const oldLogprobs = await deps.policy.logprobs(batch, { temperature });
  const refLogprobs = config.beta > 0 ? await deps.policy.logprobs(batch, { reference: true, temperature }) : undefined;
  const t3 = performance.now();

  let last = { loss: 0, klMean: 0, clipFraction: 0 };
  let gradNorm = 0;
  for (let iteration = 0; iteration < config.iterations; iteration += 1) {
    // At iteration 0 θ is the sampling θ, so current = old (ρ = 1); later iterations re-evaluate.
    const current = iteration === 0 ? oldLogprobs : await deps.policy.logprobs(batch, { temperature });
    const loss = grpoLoss(
      { logprobs: current, oldLogprobs, advantages, ...(refLogprobs === undefined ? {} : { refLogprobs }) },
      {
        lossType: config.lossType,
        epsilonLow: config.epsilonLow,
        epsilonHigh: config.epsilonHigh,
        beta: config.beta,
        maxCompletionLength: config.maxCompletionTokens,
      },
    );
    await deps.policy.accumulateGradients(batch, loss.coefficients, { temperature });
    ({ gradNorm } = await deps.policy.step({
      learningRate: config.learningRate,
      maxGradNorm: config.maxGradNorm,
      weightDecay: config.weightDecay,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.adamEpsilon,
    }));
    last = loss;
  }
  const t4 = performance.now();

  const adapter = deps.adapterPath(step);
  await deps.policy.saveWeights(adapter);
  await deps.sampler.setAdapter(adapter);
  const t5 = performance.now();

  const lengths = groups.flat().map((c) => c.tokens.length);
  const totalTokens = batch.reduce((a, s) => a + s.tokens.length, 0);
  const rewardComponents: GrpoStepMetrics["rewardComponents"] = {};
  for (const [name, values] of Object.entries(rewards.components)) {
    const applied = values.filter((v): v is number => v !== null);
    const s = applied.length > 0 ? meanStd(applied) : null;
    rewardComponents[name] = { mean: s?.mean ?? null, std: s?.std ?? null };
  }
  const total = meanStd(rewards.totals);
  return {
    step,
    loss: last.loss,
    klMean: last.klMean,
    clipFraction: last.clipFraction,
    gradNorm,
    rewardMean: total.mean,
    rewardStd: total.std,
    rewardComponents,
    zeroVarianceGroups,
    zeroVarianceGroupsSampled,
    completionLengthMean: meanStd(lengths).mean,
    tokensPerSecond: (totalTokens * config.iterations) / Math.max(1e-9, (t4 - t3 + (t3 - t2)) / 1000),
    timings: { sampleMs: t1 - t0, rewardMs: t2 - t1, logprobsMs: t3 - t2, updateMs: t4 - t3, swapMs: t5 - t4 },
    adapter,
  };
}
