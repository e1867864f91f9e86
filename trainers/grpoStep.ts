/**
 * One GRPO step, as a short run of named calls (CONTRIBUTING.md "How the code reads" #2; docs/grpo.md):
 *
 *   1. sampleGroups     G completions per prompt from the sampler (current adapter), exactly softmax(logits / T)
 *   2. scoreGroups      extract SQL → validate/execute/compare → weighted reward + every component
 *   3. groupAdvantages  A_i = (r_i − mean_g)/(std + ε) by `scaleRewards`; zero-variance groups counted and, with
 *                       dynamic sampling, replaced (DAPO)
 *   4. mask             completions cut at maxCompletionTokens (finishReason "maxTokens") get no loss when
 *                       maskTruncatedCompletions (TRL); they still count in their group's advantages
 *   5. reference        log π_ref of the sampled tokens when β > 0: the policy the run started from, frozen
 *   6. μ iterations of  policy.accumulateGradients(batch, logp ↦ grpoLoss(logp, old, ref, A).coefficients)
 *                       → policy.step (AdamW). One forward + one backward per iteration: π_old is the first
 *                       iteration's forward, detached (θ then is the sampling θ), kept for the later ones.
 *   7. policy.saveWeights(a NEW path, atomically) → sampler.setAdapter(path)  (the next rollout samples it)
 * Forwards per step: 1 (reference, β > 0) + μ (training, each with its backward).
 *
 * Letters: P = prompts per step, G = group size, B = P·G sequences, C_i = completion tokens of sequence i.
 */
import type { RewardCandidate } from "../rewards/prepareRewardSamples.js";
import { groupAdvantages } from "./groupAdvantages.js";
import type { WeightedRewardResult } from "../rewards/weightedReward.js";
import type { CandidateOptions, Completion, FinishReason, GenerationParams, Prompt } from "../models/textGenerator.js";
import type { GrpoConfig } from "./grpoConfig.js";
import { grpoLoss, type GrpoLossResult } from "./grpoLoss.js";
import type { PolicyBackend, TokenSequence } from "./policyBackend.js";

/** One training prompt: what the sampler sees and the token ids the policy sees. */
export interface GrpoPrompt {
  /** The dataset item's id (completions.jsonl names it). */
  id?: string;
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

/** One sampled completion as completions.jsonl records it (the trainer adds the step). */
export interface GrpoCompletionRecord {
  /** The prompt's dataset id (null when it has none). */
  prompt: string | null;
  question: string;
  completion: string;
  sql: string | null;
  finishReason: FinishReason;
  /** Completion tokens. */
  tokens: number;
  /** The weighted total. */
  reward: number;
  /** Every component's raw value (null: did not apply). */
  rewards: Record<string, number | null>;
  advantage: number;
  /** No loss: cut at maxCompletionTokens and maskTruncatedCompletions. */
  masked: boolean;
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
  /** Receives the batch's completions (what was trained on) when given. */
  recordCompletions?(records: GrpoCompletionRecord[]): void;
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
  /** Share of the batch's completions cut at maxCompletionTokens (masked out of the loss by default). */
  truncatedFraction: number;
  completionLengthMean: number;
  tokensPerSecond: number;
  /** Time split, milliseconds: logprobsMs = the reference forward, updateMs = μ × (forward + backward) + AdamW. */
  timings: { sampleMs: number; rewardMs: number; logprobsMs: number; updateMs: number; swapMs: number };
  adapter: string;
}

const meanStd = (xs: readonly number[]): { mean: number; std: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return { mean, std: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, xs.length)) };
};

/**
 * 1. G completions for each prompt, [P][G]; prompts sampled concurrently (the sampler shares batches). The
 * sampler's own fixed params (trainers/grpoRun.ts `createGrpoSampler`) make the distribution exactly
 * softmax(logits / T) and skip re-scoring (`scoreLogprobs: false`: the policy computes the log-probs).
 */
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
): Promise<WeightedRewardResult & { sql: (string | null)[] }> {
  const candidates: RewardCandidate[] = groups.flatMap((group, k) =>
    group.map((c) => ({
      question: prompts[k]!.question,
      completion: c.text,
      sql: deps.extractSql(c.text),
      ...(prompts[k]!.goldSql === undefined ? {} : { goldSql: prompts[k]!.goldSql }),
    })),
  );
  return { ...(await deps.scoreRewards(candidates)), sql: candidates.map((c) => c.sql) };
}

/**
 * 6. μ optimisation iterations on one batch. Each is one accumulateGradients call whose coefficient function
 * receives that forward's log-probs (detached); the first call's are π_old for all iterations.
 */
export async function optimiseBatch(
  policy: PolicyBackend,
  batch: TokenSequence[],
  loss: { advantages: readonly number[]; masked: readonly boolean[]; refLogprobs?: Float32Array[] },
  config: GrpoConfig,
): Promise<{ loss: GrpoLossResult; gradNorm: number }> {
  let old: Float32Array[] | undefined;
  let last: GrpoLossResult | undefined;
  let gradNorm = 0;
  for (let iteration = 0; iteration < config.iterations; iteration += 1) {
    await policy.accumulateGradients(
      batch,
      (logprobs) => {
        // Iteration 0: θ is still the sampling θ, so π_old = this forward, detached (ρ = 1); kept as a copy.
        old ??= logprobs.map((row) => row.slice());
        last = grpoLoss(
          {
            logprobs,
            oldLogprobs: old,
            advantages: loss.advantages,
            masked: loss.masked,
            ...(loss.refLogprobs ? { refLogprobs: loss.refLogprobs } : {}),
          },
          {
            lossType: config.lossType,
            importanceSampling: config.importanceSampling,
            epsilonLow: config.epsilonLow,
            epsilonHigh: config.epsilonHigh,
            beta: config.beta,
            maxCompletionLength: config.maxCompletionTokens,
          },
        );
        return last.coefficients;
      },
      { temperature: config.temperature },
    );
    ({ gradNorm } = await policy.step({
      learningRate: config.learningRate,
      maxGradNorm: config.maxGradNorm,
      weightDecay: config.weightDecay,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.adamEpsilon,
    }));
  }
  return { loss: last!, gradNorm };
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
  const advantagesOf = () =>
    groupAdvantages(rewards.totals, { groupSize: config.groupSize, scaleRewards: config.scaleRewards });
  let { advantages, zeroVarianceGroups, zeroVarianceGroupIndices } = advantagesOf();
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
    const G = config.groupSize;
    zeroVarianceGroupIndices.forEach((g, k) => {
      groups[g] = again[k]!;
      batchPrompts[g] = replacements[k]!;
      const slice = <T>(xs: T[]) => xs.slice(k * G, (k + 1) * G);
      rewards.totals.splice(g * G, G, ...slice(againRewards.totals));
      rewards.sql.splice(g * G, G, ...slice(againRewards.sql));
      for (const name of Object.keys(rewards.components))
        rewards.components[name]!.splice(g * G, G, ...slice(againRewards.components[name]!));
    });
    ({ advantages, zeroVarianceGroups, zeroVarianceGroupIndices } = advantagesOf());
  }
  const t2 = performance.now();

  const completions = groups.flat();
  const batch: TokenSequence[] = groups.flatMap((group, k) =>
    group.map((c) => ({
      tokens: [...batchPrompts[k]!.promptTokens, ...c.tokens],
      completionStart: batchPrompts[k]!.promptTokens.length,
    })),
  );
  const truncated = completions.map((c) => c.finishReason === "maxTokens");
  const masked = truncated.map((t) => t && config.maskTruncatedCompletions);
  // Log-probs at the sampling temperature (logits / T), as TRL computes them.
  const refLogprobs =
    config.beta > 0
      ? await deps.policy.logprobs(batch, { reference: true, temperature: config.temperature })
      : undefined;
  const t3 = performance.now();

  const { loss, gradNorm } = await optimiseBatch(
    deps.policy,
    batch,
    { advantages, masked, ...(refLogprobs ? { refLogprobs } : {}) },
    config,
  );
  const t4 = performance.now();

  const adapter = deps.adapterPath(step);
  await deps.policy.saveWeights(adapter);
  await deps.sampler.setAdapter(adapter);
  const t5 = performance.now();

  deps.recordCompletions?.(
    completions.map((c, i) => {
      const source = batchPrompts[Math.floor(i / config.groupSize)]!;
      return {
        prompt: source.id ?? null,
        question: source.question,
        completion: c.text,
        sql: rewards.sql[i] ?? null,
        finishReason: c.finishReason,
        tokens: c.tokens.length,
        reward: rewards.totals[i]!,
        rewards: Object.fromEntries(
          Object.entries(rewards.components).map(([name, values]) => [name, values[i] ?? null]),
        ),
        advantage: advantages[i]!,
        masked: masked[i]!,
      };
    }),
  );

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
    loss: loss.loss,
    klMean: loss.klMean,
    clipFraction: loss.clipFraction,
    gradNorm,
    rewardMean: total.mean,
    rewardStd: total.std,
    rewardComponents,
    zeroVarianceGroups,
    zeroVarianceGroupsSampled,
    truncatedFraction: truncated.filter(Boolean).length / Math.max(1, truncated.length),
    completionLengthMean: meanStd(completions.map((c) => c.tokens.length)).mean,
    tokensPerSecond: (totalTokens * config.iterations) / Math.max(1e-9, (t4 - t2) / 1000),
    timings: { sampleMs: t1 - t0, rewardMs: t2 - t1, logprobsMs: t3 - t2, updateMs: t4 - t3, swapMs: t5 - t4 },
    adapter,
  };
}
