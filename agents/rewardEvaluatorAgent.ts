/**
 * The reward evaluator agent: a promise actor (`evaluateRewards`) that scores candidates against a gold query
 * when one is known, and says in words what was right or wrong (the feedback a user or a correction prompt
 * reads). It is one supervised effect, like the other agents (docs/agents.md).
 *
 * rewards/prepareRewardSamples (validate → execute → match the gold result, the
 * gold result cached per gold query) → the weighted reward (default DEFAULT_REWARD_COMPONENTS) →
 * `rewardFeedback` per sample; a failure rejects the actor. The SQL toolkit comes in as a RewardEnvironment
 * (trainers/sqlRewardEnvironment.ts builds one for a live database).
 *
 * @example
 * const env = await createSqlRewardEnvironment(db);
 * const { totals, feedback } = await runtime.call(evaluateRewards, { candidates: [{ question, completion: sql, sql, goldSql }], environment: env });
 */
import { fromPromise } from "xstate";
import {
  createGoldResultCache,
  prepareRewardSamples,
  type GoldResultCache,
  type RewardCandidate,
  type RewardEnvironment,
} from "../rewards/prepareRewardSamples.js";
import type { RewardSample } from "../rewards/rewardSample.js";
import { DEFAULT_REWARD_COMPONENTS, createWeightedReward, type WeightedReward } from "../rewards/weightedReward.js";

export interface RewardEvaluatorInput {
  candidates: RewardCandidate[];
  environment: RewardEnvironment;
  /** Share it across calls so each gold query runs once. */
  goldCache?: GoldResultCache;
  /** Default: the weighted DEFAULT_REWARD_COMPONENTS. */
  reward?: WeightedReward;
}

export interface RewardEvaluation {
  samples: RewardSample[];
  /** Weighted total per candidate, [N]. */
  totals: number[];
  /** Raw value per component per candidate. */
  components: Record<string, (number | null)[]>;
  /** One sentence per candidate. */
  feedback: string[];
}

const rows = (n: number): string => `${n} row${n === 1 ? "" : "s"}`;

/**
 * What went right or wrong with one scored sample, in one sentence.
 * @example
 * rewardFeedback({ question, completion: "", sql: null }); // "no SQL found in the answer"
 */
export function rewardFeedback(sample: RewardSample): string {
  if (sample.sql === null) return "no SQL found in the answer";
  if (sample.validation?.refused) return `refused by the safety policy: ${sample.validation.errors.join("; ")}`;
  if (sample.validation && (!sample.validation.syntaxValid || !sample.validation.schemaValid))
    return `invalid SQL: ${sample.validation.errors.join("; ")}`;
  const exec = sample.execution;
  if (exec && !exec.ok) return `the query failed (${exec.kind}): ${exec.error}`;
  if (sample.goldSql === undefined)
    return exec?.ok ? `executed: ${rows(exec.result.rowCount)} (no gold query to compare with)` : "not executed";
  if (sample.goldExecution && !sample.goldExecution.ok)
    return `the gold query itself failed: ${sample.goldExecution.error}`;
  if (sample.match === true) return "correct: the result matches the gold query's";
  const got = exec?.ok ? exec.result.rowCount : 0;
  const want = sample.goldExecution?.ok ? sample.goldExecution.result.rowCount : 0;
  return `runs but the result differs from the gold query's (${rows(got)} vs ${rows(want)} expected)`;
}

let defaultReward: WeightedReward | undefined;

async function score({ input }: { input: RewardEvaluatorInput }): Promise<RewardEvaluation> {
  const samples = await prepareRewardSamples(
    input.candidates,
    input.environment,
    input.goldCache ?? createGoldResultCache(input.environment),
  );
  defaultReward ??= createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS({ bareSql: true }) });
  const reward = input.reward ?? defaultReward;
  const { totals, components } = await reward(samples);
  return { samples, totals, components, feedback: samples.map(rewardFeedback) };
}

/** The reward evaluator agent (see the file comment). */
export const evaluateRewards = fromPromise<RewardEvaluation, RewardEvaluatorInput>(({ input }) => score({ input }));
