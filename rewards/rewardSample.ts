/**
 * What a reward function sees: one scored candidate, with everything the scoring step
 * (`prepareRewardSamples`) found out about it — validation, execution, execution match, schema items.
 * Rewards are plain batched functions over these (CONTRIBUTING.md "How the code reads" #6): `(samples) => Promise<(number | null)[]>`,
 * `null` meaning "does not apply to this sample" (the aggregator then adds nothing for it).
 */
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";

/** What the validator said about the candidate SQL. */
export interface SampleValidation {
  /** It parses as (PostgreSQL) SQL. */
  syntaxValid: boolean;
  /** Every table and column it names exists in the schema. */
  schemaValid: boolean;
  /** The safety policy refused it (writes, several statements, forbidden functions…). */
  refused: boolean;
  errors: string[];
}

/** Tables and columns a query uses, lower-cased (`table`, `table.column`). */
export interface SchemaItems {
  tables: string[];
  columns: string[];
}

export interface RewardSample {
  question: string;
  /** The model's raw completion text. */
  completion: string;
  /** The SQL extracted from the completion; null when none was found. */
  sql: string | null;
  /** The reference query; undefined when the prompt has none (rewards that need it return null). */
  goldSql?: string;
  validation?: SampleValidation;
  /** The candidate's execution; undefined when it was not executed (no SQL, refused before running). */
  execution?: ExecutionOutcome;
  /** The gold query's execution (cached per gold query). */
  goldExecution?: ExecutionOutcome;
  /** docs/execution-match.md of candidate vs gold; undefined when either did not execute. */
  match?: boolean;
  /**
   * The gold query reads a table and the candidate reads none (a constant such as `SELECT 72`): the
   * result-based rewards give it nothing (prepareRewardSamples.ts). Undefined otherwise.
   */
  readsNoTable?: boolean;
  schemaItems?: SchemaItems;
  goldSchemaItems?: SchemaItems;
}

/** A batched reward: one number (or null = not applicable) per sample, same order. */
export type RewardFunction = (samples: readonly RewardSample[]) => Promise<(number | null)[]>;
