/**
 * Evaluation of a model on dataset items against a live database: trainers/eval/evaluate.ts wired to the task's
 * prompts, the SQL toolkit (rewards/sqlRewardEnvironment.ts), the SQL extractor and the default weighted reward.
 *
 *   prompt   task/text2sqlPrompt.ts in the given style — the prompt `ask` sends: "tiny" the question and
 *            evidence; the other styles the tables linked in THIS database (introspected) and the values the
 *            question mentions looked up in it
 *   decode   greedy (temperature 0), `concurrency` examples at once
 *   score    extractSql → validate → execute → execution match with the gold result (gold results cached
 *            per query), on the database and on the K variants of its test suite (default 3) →
 *            DEFAULT_REWARD_COMPONENTS (bare SQL format for "tiny") for mean_reward
 *
 * @example
 * await using model = await loadModel({ model: await ensureDemoModel(), gpu: false });
 * const db = await openDatabase("demo");
 * const report = await evaluateModel({ generator: model, items: await loadDataset("dev"), executor: db });
 * report.execution_accuracy; // 0..1
 */
import type { DatasetItem } from "../../data/loadDataset.js";
import { extractSql } from "../../models/extractSql.js";
import type { PromptStyle } from "../../models/promptTemplates.js";
import type { TextGenerator } from "../../models/textGenerator.js";
import { createGoldResultCache, prepareRewardSamples } from "../../rewards/prepareRewardSamples.js";
import { createSqlRewardEnvironment } from "../../rewards/sqlRewardEnvironment.js";
import { createWeightedReward, DEFAULT_REWARD_COMPONENTS } from "../../rewards/weightedReward.js";
import type { BusinessRule } from "../../sql/businessRules.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { taskDatabase, type TaskDatabase } from "../../task/taskDatabase.js";
import { buildTaskPrompts } from "../../task/text2sqlPrompt.js";
import { evaluate, type EvaluationReport } from "./evaluate.js";

export interface EvaluateModelOptions {
  generator: Pick<TextGenerator, "generate">;
  items: readonly Pick<DatasetItem, "question" | "sql" | "evidence" | "difficulty">[];
  /** The database the items are about: gold and predicted SQL run here, and the prompts are built from it. */
  executor: SqlExecutor;
  /** Prompt style; default "tiny" (the demo model's). */
  promptStyle?: PromptStyle;
  /** The task's view of `executor` (its schema read once); default one made here. */
  task?: TaskDatabase;
  /** Examples generated at once; default 8 (loadModel's default sequence pool). */
  concurrency?: number;
  /** Completion token limit; default 256. */
  maxTokens?: number;
  /** Per-query time limit in ms; default 5000. */
  timeoutMs?: number;
  /** The database's business rules for the reward (sql/businessRules.ts `defaultBusinessRules`); default none. */
  businessRules?: readonly BusinessRule[];
  /**
   * Variants in the test suite (docs/execution-match.md "Test suite"): default 3 for a PGlite or PostgreSQL
   * database; 0 scores on the database alone (`test_suite_execution_accuracy` null).
   */
  suite?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Execution accuracy (overall and per difficulty), validity, latency and mean weighted reward of a model. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<EvaluationReport> {
  const style = options.promptStyle ?? "tiny";
  const prompts = await buildTaskPrompts(options.task ?? taskDatabase(options.executor), style, options.items);
  const env = await createSqlRewardEnvironment(
    options.executor,
    { timeoutMs: options.timeoutMs ?? 5000, maxRows: 10_000 },
    options.suite === undefined ? {} : { suite: options.suite },
  );
  const gold = createGoldResultCache(env);
  return evaluate({
    generator: options.generator,
    examples: options.items.map((item) => ({
      question: item.question,
      sql: item.sql,
      evidence: item.evidence,
      ...(item.difficulty ? { difficulty: item.difficulty } : {}),
    })),
    buildPrompt: (_example, index) => prompts[index]!,
    extractSql: (text) => extractSql(text).sql,
    prepare: (candidates) => prepareRewardSamples(candidates, env, gold),
    testSuite: env.suiteSize > 0,
    reward: createWeightedReward({
      components: DEFAULT_REWARD_COMPONENTS({ bareSql: style === "tiny", businessRules: options.businessRules ?? [] }),
    }),
    concurrency: options.concurrency ?? 8,
    maxTokens: options.maxTokens ?? 256,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
