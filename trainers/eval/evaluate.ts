/**
 * Evaluation of a model on a split: for each example, one greedy completion (temperature 0) →
 * extract SQL → validate / execute / compare with gold (prepareRewardSamples) → optional weighted reward.
 *
 *   execution_accuracy = matches / n                (overall, and per difficulty)
 *   test_suite_execution_accuracy = matches on the database and every variant of its test suite / n
 *                        (docs/execution-match.md "Test suite"); null unless `testSuite`
 *   validity_rate      = samples whose SQL parses and resolves against the schema / n
 *   mean_latency_ms    = mean wall time of generation per example
 *   mean_reward        = mean weighted reward (when a reward is given)
 * Examples are generated `concurrency` at a time (the sampler batches sequences); scoring of one batch
 * overlaps with generation of the next. Each result line carries the prompt as the model saw it (rendered),
 * for error analysis.
 */
import { renderPrompt } from "../../models/promptTemplates.js";
import type { Prompt, TextGenerator } from "../../models/textGenerator.js";
import type { RewardCandidate } from "../../rewards/prepareRewardSamples.js";
import type { RewardSample } from "../../rewards/rewardSample.js";
import type { WeightedReward } from "../../rewards/weightedReward.js";

export interface EvaluationExample {
  question: string;
  sql: string;
  evidence?: string;
  difficulty?: string;
}

export interface EvaluationOptions {
  generator: Pick<TextGenerator, "generate">;
  examples: readonly EvaluationExample[];
  /** The prompt of example `index` (trainers/eval/evaluateModel.ts passes the task's, task/text2sqlPrompt.ts). */
  buildPrompt(example: EvaluationExample, index: number): Prompt;
  extractSql(text: string): string | null;
  /** validate → execute → compare (rewards/prepareRewardSamples.ts with the SQL toolkit wired in). */
  prepare(candidates: RewardCandidate[]): Promise<RewardSample[]>;
  reward?: WeightedReward;
  /**
   * `prepare` compares on a test suite (samples carry `suiteMatch` where both queries ran; a sample without one did
   * not match). Default false: `test_suite_execution_accuracy` is null.
   */
  testSuite?: boolean;
  /** Examples generated at once. Default 4. */
  concurrency?: number;
  maxTokens?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluationReport {
  execution_accuracy: number;
  /** Test-suite execution accuracy (Zhong et al. 2020); null when scored without a suite. */
  test_suite_execution_accuracy: number | null;
  n: number;
  by_difficulty: Record<string, { n: number; execution_accuracy: number }>;
  validity_rate: number;
  mean_latency_ms: number;
  mean_reward: number | null;
  /** Per example: question, the prompt (rendered, as the model saw it), predicted SQL, match. */
  results: {
    question: string;
    prompt: string;
    sql: string | null;
    gold: string;
    match: boolean;
    /** Match on the database and every variant of its test suite; null without a suite. */
    suiteMatch: boolean | null;
    valid: boolean;
    latencyMs: number;
    reward: number | null;
  }[];
}

export async function evaluate(options: EvaluationOptions): Promise<EvaluationReport> {
  const concurrency = options.concurrency ?? 4;
  const results: EvaluationReport["results"] = [];
  let pendingScore: Promise<void> = Promise.resolve();
  for (let i = 0; i < options.examples.length; i += concurrency) {
    const chunk = options.examples.slice(i, i + concurrency);
    const generated = await Promise.all(
      chunk.map(async (ex, k) => {
        const prompt = options.buildPrompt(ex, i + k);
        const t0 = performance.now();
        const completion = await options.generator.generate(prompt, {
          temperature: 0,
          ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
        });
        return { ex, prompt: renderPrompt(prompt), text: completion.text, latencyMs: performance.now() - t0 };
      }),
    );
    const previous = pendingScore;
    pendingScore = (async () => {
      const samples = await options.prepare(
        generated.map((g) => ({
          question: g.ex.question,
          completion: g.text,
          sql: options.extractSql(g.text),
          goldSql: g.ex.sql,
        })),
      );
      const rewards = options.reward ? (await options.reward(samples)).totals : null;
      await previous;
      samples.forEach((s, k) => {
        results.push({
          question: s.question,
          prompt: generated[k]!.prompt,
          sql: s.sql,
          gold: generated[k]!.ex.sql,
          match: s.match === true,
          suiteMatch: options.testSuite ? s.suiteMatch === true : null,
          valid: s.validation?.syntaxValid === true && s.validation.schemaValid,
          latencyMs: generated[k]!.latencyMs,
          reward: rewards?.[k] ?? null,
        });
      });
      options.onProgress?.(results.length, options.examples.length);
    })();
  }
  await pendingScore;

  const n = results.length;
  const by_difficulty: EvaluationReport["by_difficulty"] = {};
  options.examples.forEach((ex, i) => {
    const key = ex.difficulty ?? "all";
    by_difficulty[key] ??= { n: 0, execution_accuracy: 0 };
    const entry = by_difficulty[key];
    entry.n += 1;
    entry.execution_accuracy += results[i]!.match ? 1 : 0;
  });
  for (const entry of Object.values(by_difficulty)) entry.execution_accuracy /= entry.n;
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    execution_accuracy: mean(results.map((r) => (r.match ? 1 : 0))),
    test_suite_execution_accuracy: options.testSuite ? mean(results.map((r) => (r.suiteMatch ? 1 : 0))) : null,
    n,
    by_difficulty,
    validity_rate: mean(results.map((r) => (r.valid ? 1 : 0))),
    mean_latency_ms: mean(results.map((r) => r.latencyMs)),
    mean_reward: options.reward ? mean(results.map((r) => r.reward ?? 0)) : null,
    results,
  };
}
