/**
 * GRPO's reward scoring with prefetch: the sampler hands each finished group to `prefetch` (validate → execute
 * → compare start at once, the PGlite worker runs off the main thread) while other groups still decode;
 * `scoreRewards` then awaits the prepared samples and applies the weighted reward.
 */
import { extractSql } from "../../models/extractSql.js";
import {
  createGoldResultCache,
  prepareRewardSamples,
  type GoldResultCache,
  type RewardCandidate,
  type RewardEnvironment,
} from "../../rewards/prepareRewardSamples.js";
import type { RewardSample } from "../../rewards/rewardSample.js";
import type { WeightedReward, WeightedRewardResult } from "../../rewards/weightedReward.js";

/** Scoring with prefetch: candidates prepared early (during generation) are picked up by `scoreRewards`. */
export interface RewardScorer {
  /** Starts validate → execute → compare of a candidate now; `scoreRewards` will reuse the result. */
  prefetch(candidate: RewardCandidate): void;
  /** GrpoStepDependencies.scoreRewards: prepared samples (prefetched or not) → weighted reward. */
  scoreRewards(candidates: RewardCandidate[]): Promise<WeightedRewardResult>;
  /** Samples of the last scoreRewards call (for inspection and tests). */
  readonly lastSamples: readonly RewardSample[];
  /** Time of the last scoreRewards call: waiting for preparation vs the reward functions, ms. */
  readonly lastTimings: { prepareMs: number; rewardMs: number };
}

const candidateKey = (c: RewardCandidate): string =>
  JSON.stringify([c.question, c.completion, c.sql, c.goldSql ?? null]);

export function createRewardScorer(
  env: RewardEnvironment,
  reward: WeightedReward,
  gold: GoldResultCache = createGoldResultCache(env),
): RewardScorer {
  const pending = new Map<string, Promise<RewardSample>[]>();
  const prepareOne = (c: RewardCandidate) => prepareRewardSamples([c], env, gold).then((s) => s[0]!);
  let lastSamples: readonly RewardSample[] = [];
  let lastTimings = { prepareMs: 0, rewardMs: 0 };
  return {
    prefetch(candidate) {
      const key = candidateKey(candidate);
      const list = pending.get(key) ?? [];
      const started = prepareOne(candidate);
      started.catch(() => undefined); // awaited (and rethrown) by scoreRewards
      list.push(started);
      pending.set(key, list);
    },
    async scoreRewards(candidates) {
      const t0 = performance.now();
      const samples = await Promise.all(
        candidates.map((c) => {
          const list = pending.get(candidateKey(c));
          const early = list?.shift();
          if (list?.length === 0) pending.delete(candidateKey(c));
          return early ?? prepareOne(c);
        }),
      );
      const t1 = performance.now();
      const result = await reward(samples);
      lastSamples = samples;
      lastTimings = { prepareMs: t1 - t0, rewardMs: performance.now() - t1 };
      return result;
    },
    get lastSamples() {
      return lastSamples;
    },
    get lastTimings() {
      return lastTimings;
    },
  };
}

/** Completion text → the SQL in it (models/extractSql.ts). */
export const extractCandidateSql = (text: string): string | null => extractSql(text).sql;
