/**
 * Evaluation of a model on dataset items against a live database: trainers/evaluate.ts wired to the SQL
 * toolkit (trainers/sqlRewardEnvironment.ts), the SQL extractor and the default weighted reward.
 *
 *   prompt   models/promptTemplates.ts in the given style ("tiny": question + evidence; the others add the
 *            demo schema DDL)
 *   decode   greedy (temperature 0), `concurrency` examples at once
 *   score    extractSql → validate → execute → execution match with the gold result (gold results cached
 *            per query) → DEFAULT_REWARD_COMPONENTS (bare SQL format for "tiny") for mean_reward
 *
 * @example
 * await using model = await loadModel({ model: await ensureDemoModel(), gpu: false });
 * const db = await openDatabase("demo");
 * const report = await evaluateModel({ generator: model, items: await loadDataset("dev"), executor: db });
 * report.execution_accuracy; // 0..1
 */
import type { DatasetItem } from "../data/loadDataset.js";
import { extractSql } from "../models/extractSql.js";
import type { PromptStyle } from "../models/promptTemplates.js";
import type { TextGenerator } from "../models/textGenerator.js";
import { createGoldResultCache, prepareRewardSamples } from "../rewards/prepareRewardSamples.js";
import { createWeightedReward, DEFAULT_REWARD_COMPONENTS } from "../rewards/weightedReward.js";
import { demoSchemaSql } from "../sql/demoDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { evaluate, type EvaluationReport } from "./evaluate.js";
import { datasetPrompt } from "./sftExamples.js";
import { createSqlRewardEnvironment } from "../rewards/sqlRewardEnvironment.js";

export interface EvaluateModelOptions {
  generator: Pick<TextGenerator, "generate">;
  items: readonly Pick<DatasetItem, "question" | "sql" | "evidence" | "difficulty">[];
  executor: Pick<SqlExecutor, "execute">;
  /** Prompt style; default "tiny" (the demo model's). */
  promptStyle?: PromptStyle;
  /** Schema DDL for the non-tiny styles; default the demo database's data/schema.sql. */
  schema?: string;
  /** Examples generated at once; default 8 (loadModel's default sequence pool). */
  concurrency?: number;
  /** Completion token limit; default 256. */
  maxTokens?: number;
  /** Per-query time limit in ms; default 5000. */
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Execution accuracy (overall and per difficulty), validity, latency and mean weighted reward of a model. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<EvaluationReport> {
  const style = options.promptStyle ?? "tiny";
  const schema = style === "tiny" ? undefined : (options.schema ?? (await demoSchemaSql()));
  const env = await createSqlRewardEnvironment(options.executor, {
    timeoutMs: options.timeoutMs ?? 5000,
    maxRows: 10_000,
  });
  const gold = createGoldResultCache(env);
  return evaluate({
    generator: options.generator,
    examples: options.items.map((item) => ({
      question: item.question,
      sql: item.sql,
      evidence: item.evidence,
      ...(item.difficulty ? { difficulty: item.difficulty } : {}),
    })),
    buildPrompt: (ex) => datasetPrompt(style, ex, schema),
    extractSql: (text) => extractSql(text).sql,
    prepare: (candidates) => prepareRewardSamples(candidates, env, gold),
    reward: createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS({ bareSql: style === "tiny" }) }),
    concurrency: options.concurrency ?? 8,
    maxTokens: options.maxTokens ?? 256,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
