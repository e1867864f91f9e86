/**
 * One GRPO step, as a short run of named calls (CONTRIBUTING.md "How the code reads" #2; docs/grpo.md):
 *
 *   1. sampleEpisodes   G rollouts per prompt from the sampler (current adapter), exactly softmax(logits / T):
 *                       one completion each (turns = 1), or episodes of ask's correction loop (turns > 1,
 *                       trainers/grpo/grpoEpisodes.ts: one sequence per model turn, the feedback in the next prompt)
 *   2. scoreEpisodes    the final answer: extract SQL → validate/execute/compare → weighted reward + every
 *                       component; an episode's reward = that − extraTurnCost·(turns − 1)
 *   3. groupAdvantages  A_i = (r_i − mean_g)/(std + ε) by `scaleRewards` over the G episodes of a prompt;
 *                       zero-variance groups counted and, with dynamic sampling, replaced (DAPO); every turn of
 *                       an episode gets its A
 *   4. mask             completions (turns) cut at maxCompletionTokens (finishReason "maxTokens") get no loss when
 *                       maskTruncatedCompletions (TRL); they still count in their group's advantages
 *   5. reference        log π_ref of the sampled tokens when β > 0: the policy the run started from, frozen
 *   6. μ iterations of  policy.accumulateGradients(batch, logp ↦ grpoLoss(logp, old, ref, A, episodes).coefficients)
 *                       → policy.step (AdamW). One forward + one backward per iteration: π_old is the first
 *                       iteration's forward, detached (θ then is the sampling θ), kept for the later ones.
 *   7. policy.saveWeights(a NEW path, atomically) → sampler.setAdapter(path)  (the next rollout samples it; rollout
 *                       servers get it through their preset file, trainers/rollouts/rolloutServers.ts)
 * A sampler with `samplingLogprobs` (rollout servers) also hands over its own log-probs: step 6's loss then weights
 * each token by min(π_old/π_sampler, samplingCorrectionCap) and the metrics log `sampling`.
 * Forwards per step: 1 (reference, β > 0) + μ (training, each with its backward).
 *
 * Letters: P = prompts per step, G = group size, E = P·G episodes, B = sequences (one per model turn; = E when
 * turns = 1), C_i = completion tokens of sequence i.
 */
import type { RewardCandidate } from "../../rewards/prepareRewardSamples.js";
import { groupAdvantages } from "./groupAdvantages.js";
import type { WeightedRewardResult } from "../../rewards/weightedReward.js";
import type { Completion, FinishReason } from "../../models/textGenerator.js";
import type { TurnTools } from "../../task/correctionLoop.js";
import type { TaskFailure } from "../../task/text2sqlPrompt.js";
import type { GrpoConfig } from "./grpoConfig.js";
import { episodeBatch, sampleEpisodes, type GrpoEpisode, type GrpoPrompt, type GrpoSampler } from "./grpoEpisodes.js";
import { grpoLoss, type GrpoLossResult, type SamplingCorrectionStats } from "./grpoLoss.js";
import type { PolicyBackend, TokenSequence } from "../policyBackend.js";

export { sampleGroups, type GrpoPrompt, type GrpoSampler } from "./grpoEpisodes.js";

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
  /** The adapter that sampled it (null: the base model): the previous step's, or the run's starting one. */
  adapter: string | null;
  /**
   * Multi-turn only (turns > 1): every turn of the episode — its completion, its SQL's failure (what the next
   * turn's prompt adds: the failed SQL, the error, the hint) and its mask; the fields above are the final turn's.
   */
  turns?: {
    completion: string;
    finishReason: FinishReason;
    tokens: number;
    feedback: TaskFailure | null;
    masked: boolean;
  }[];
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
  /** Multi-turn (config.turns > 1): the validator and the sandboxed executor a turn's feedback comes from. */
  turnTools?: TurnTools;
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
  /** Share of the batch's completions (turns) cut at maxCompletionTokens (masked out of the loss by default). */
  truncatedFraction: number;
  /** Multi-turn only: mean turns per episode. */
  turnsMean?: number;
  /** Rollout servers only: the truncated importance-sampling correction (grpoLoss.ts) — ratios and log-prob gap. */
  sampling?: SamplingCorrectionStats;
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

/** 2. The episodes' final answers scored, [P·G]; totals = the episode's reward (minus extraTurnCost per extra turn). */
export async function scoreEpisodes(
  groups: readonly GrpoEpisode[][],
  prompts: readonly GrpoPrompt[],
  deps: Pick<GrpoStepDependencies, "extractSql" | "scoreRewards">,
  config: Pick<GrpoConfig, "extraTurnCost">,
): Promise<WeightedRewardResult & { sql: (string | null)[] }> {
  const finals = groups.map((group) => group.map((episode) => episode.turns.at(-1)!.completion));
  const scored = await scoreGroups(finals, prompts, deps);
  const turns = groups.flat().map((episode) => episode.turns.length);
  // Single-turn totals stay exactly the reward (no "− 0" that could round differently).
  const totals = scored.totals.map((r, i) => (turns[i]! > 1 ? r - config.extraTurnCost * (turns[i]! - 1) : r));
  return { ...scored, totals };
}

/**
 * 6. μ optimisation iterations on one batch. Each is one accumulateGradients call whose coefficient function
 * receives that forward's log-probs (detached); the first call's are π_old for all iterations.
 */
export async function optimiseBatch(
  policy: PolicyBackend,
  batch: TokenSequence[],
  loss: {
    advantages: readonly number[];
    masked: readonly boolean[];
    episodes?: readonly number[];
    refLogprobs?: Float32Array[];
    samplingLogprobs?: readonly ArrayLike<number>[];
  },
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
            ...(loss.episodes ? { episodes: loss.episodes } : {}),
            ...(loss.refLogprobs ? { refLogprobs: loss.refLogprobs } : {}),
            ...(loss.samplingLogprobs ? { samplingLogprobs: loss.samplingLogprobs } : {}),
          },
          {
            samplingCap: config.samplingCorrectionCap,
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
  const sample = (batchOf: readonly GrpoPrompt[], samplingConfig: GrpoConfig) =>
    sampleEpisodes(deps.sampler, batchOf, samplingConfig, step, deps.extractSql, deps.turnTools);
  let groups = await sample(prompts, config);
  const t1 = performance.now();

  const rewards = await scoreEpisodes(groups, prompts, deps, config);
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
    const again = await sample(replacements, { ...config, seed: config.seed + round * 7_919 });
    const againRewards = await scoreEpisodes(again, replacements, deps, config);
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

  const episodes = groups.flat();
  // One sequence per model turn; every turn carries its episode's advantage (trainers/grpo/grpoEpisodes.ts).
  const {
    batch,
    episodes: episodeOf,
    truncated,
    masked,
    samplingLogprobs,
  } = episodeBatch(groups, config.maskTruncatedCompletions, deps.sampler.samplingLogprobs === true);
  const multiTurn = batch.length > episodes.length;
  // Log-probs at the sampling temperature (logits / T), as TRL computes them.
  const refLogprobs =
    config.beta > 0
      ? await deps.policy.logprobs(batch, { reference: true, temperature: config.temperature })
      : undefined;
  const t3 = performance.now();

  const { loss, gradNorm } = await optimiseBatch(
    deps.policy,
    batch,
    {
      advantages: multiTurn ? episodeOf.map((e) => advantages[e]!) : advantages,
      masked,
      ...(multiTurn ? { episodes: episodeOf } : {}),
      ...(refLogprobs ? { refLogprobs } : {}),
      ...(samplingLogprobs ? { samplingLogprobs } : {}),
    },
    config,
  );
  const t4 = performance.now();

  const adapter = deps.adapterPath(step);
  await deps.policy.saveWeights(adapter);
  await deps.sampler.setAdapter(adapter);
  const t5 = performance.now();

  deps.recordCompletions?.(completionRecords(episodes, batchPrompts, rewards, advantages, masked, config));
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
    completionLengthMean: meanStd(batch.map((s) => s.tokens.length - s.completionStart)).mean,
    tokensPerSecond: (totalTokens * config.iterations) / Math.max(1e-9, (t4 - t2) / 1000),
    timings: { sampleMs: t1 - t0, rewardMs: t2 - t1, logprobsMs: t3 - t2, updateMs: t4 - t3, swapMs: t5 - t4 },
    adapter,
    ...(config.turns > 1 ? { turnsMean: meanStd(episodes.map((e) => e.turns.length)).mean } : {}),
    ...(loss.sampling ? { sampling: loss.sampling } : {}),
  };
}

/** completions.jsonl's lines: one per episode (its final answer; with turns > 1 every turn too). */
function completionRecords(
  episodes: readonly GrpoEpisode[],
  prompts: readonly GrpoPrompt[],
  rewards: WeightedRewardResult & { sql: (string | null)[] },
  advantages: readonly number[],
  masked: readonly boolean[],
  config: GrpoConfig,
): GrpoCompletionRecord[] {
  let sequence = 0;
  return episodes.map((episode, i) => {
    const source = prompts[Math.floor(i / config.groupSize)]!;
    const turnMasks = episode.turns.map(() => masked[sequence++]!);
    const last = episode.turns.at(-1)!.completion;
    return {
      prompt: source.id ?? null,
      question: source.question,
      completion: last.text,
      sql: rewards.sql[i] ?? null,
      finishReason: last.finishReason,
      tokens: last.tokens.length,
      reward: rewards.totals[i]!,
      rewards: Object.fromEntries(
        Object.entries(rewards.components).map(([name, values]) => [name, values[i] ?? null]),
      ),
      advantage: advantages[i]!,
      masked: turnMasks.at(-1)!,
      adapter: last.adapter,
      ...(config.turns > 1
        ? {
            turns: episode.turns.map((turn, t) => ({
              completion: turn.completion.text,
              finishReason: turn.completion.finishReason,
              tokens: turn.completion.tokens.length,
              feedback: turn.failure,
              masked: turnMasks[t]!,
            })),
          }
        : {}),
    };
  });
}
