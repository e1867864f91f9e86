/**
 * Execution accuracy of the full `ask` pipeline (`gl-rl eval --pipeline`): each question goes through the agent
 * exactly as `ask` runs it — link → generate N candidates → validate → execute → vote → correct (task/
 * correctionLoop.ts) → answer — and the answer's SQL is compared with the gold result by the same execution match
 * as single-shot EX (rewards/prepareRewardSamples.ts). An unanswered question counts as a miss.
 *
 *   pipeline_execution_accuracy = answers whose result matches the gold's / n
 *
 * Questions are asked one at a time (an ask already samples its N candidates together).
 *
 * @example
 * const { pipeline_execution_accuracy } = await pipelineAccuracy({ generator: model, items, executor: db });
 */
import type { TextGenerator } from "../models/textGenerator.js";
import type { PromptStyle } from "../models/promptTemplates.js";
import { createGoldResultCache, prepareRewardSamples } from "../rewards/prepareRewardSamples.js";
import { createSqlRewardEnvironment } from "../rewards/sqlRewardEnvironment.js";
import type { BusinessRule } from "../sql/businessRules.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { createText2SqlAgent } from "./text2sqlAgent.js";

export interface PipelineAccuracyOptions {
  generator: TextGenerator;
  items: readonly { question: string; sql: string; evidence?: string | null }[];
  /** The database the items are about (not closed here). */
  executor: SqlExecutor;
  /** Default by model, as `ask`. */
  promptStyle?: PromptStyle;
  businessRules?: readonly BusinessRule[];
  /** Candidates per question and correction rounds; default `ask`'s (4 and 1). */
  candidates?: number;
  maxCorrections?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PipelineAccuracyReport {
  pipeline_execution_accuracy: number;
  /** Share of questions that got an answer (a query that ran). */
  pipeline_answered_rate: number;
  /** Share of questions whose answer needed a correction round. */
  pipeline_corrected_rate: number;
  n: number;
}

export async function pipelineAccuracy(options: PipelineAccuracyOptions): Promise<PipelineAccuracyReport> {
  const agent = await createText2SqlAgent({
    model: options.generator,
    db: options.executor,
    businessRules: options.businessRules ?? [],
    ...(options.promptStyle ? { promptStyle: options.promptStyle } : {}),
    ...(options.candidates ? { candidates: options.candidates } : {}),
    ...(options.maxCorrections === undefined ? {} : { maxCorrections: options.maxCorrections }),
  });
  // EX on the database, as single-shot `execution_accuracy` (no test suite: the answers are compared once).
  const env = await createSqlRewardEnvironment(options.executor, { timeoutMs: 5000, maxRows: 10_000 }, { suite: 0 });
  const gold = createGoldResultCache(env);
  let matches = 0;
  let answered = 0;
  let corrected = 0;
  try {
    for (const [i, item] of options.items.entries()) {
      const answer = await agent.ask(item.question, item.evidence ? { evidence: item.evidence } : {});
      if (answer.sql !== null) {
        answered += 1;
        if (answer.corrections > 0) corrected += 1;
        const [sample] = await prepareRewardSamples(
          [{ question: item.question, completion: answer.sql, sql: answer.sql, goldSql: item.sql }],
          env,
          gold,
        );
        if (sample?.match === true) matches += 1;
      }
      options.onProgress?.(i + 1, options.items.length);
    }
  } finally {
    await agent.close();
  }
  const n = options.items.length;
  const share = (k: number) => (n === 0 ? 0 : k / n);
  return {
    pipeline_execution_accuracy: share(matches),
    pipeline_answered_rate: share(answered),
    pipeline_corrected_rate: share(corrected),
    n,
  };
}
