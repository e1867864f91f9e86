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
  /** docs/execution-match.md of candidate vs gold on the database (EX); undefined when either did not execute. */
  match?: boolean;
  /**
   * The complete results (run again up to 100,000 rows) when `execution` / `goldExecution` was cut at the row
   * cap: the match and the row overlap read these, never the first rows of a cut result.
   */
  completeExecution?: ExecutionOutcome;
  completeGoldExecution?: ExecutionOutcome;
  /**
   * Test-suite match (docs/execution-match.md "Test suite"): `match` and the same result on every variant of
   * the database where the gold runs, with a gold that returns a row somewhere. Undefined without a suite.
   */
  suiteMatch?: boolean;
  /** The gold's and the candidate's complete outcomes on each variant where the gold ran (row overlap reads them). */
  variants?: { gold: ExecutionOutcome; candidate: ExecutionOutcome }[];
  /** The gold result is empty on the database and on every variant: no result-based credit can be earned. */
  goldUninformative?: true;
  /**
   * The gold query reads a table and the candidate reads none (a constant such as `SELECT 72`): the
   * result-based rewards give it nothing (prepareRewardSamples.ts). Undefined otherwise.
   */
  readsNoTable?: boolean;
  /**
   * The candidate's non-empty result is the same on the database and every variant while the gold's changes
   * (`SELECT 24 FROM projects LIMIT 1`): treated as reading no table. Undefined otherwise.
   */
  ignoresData?: true;
  schemaItems?: SchemaItems;
  goldSchemaItems?: SchemaItems;
}

/** A batched reward: one number (or null = not applicable) per sample, same order. */
export type RewardFunction = (samples: readonly RewardSample[]) => Promise<(number | null)[]>;

/**
 * The candidate's result does not come from the data: it reads no table (by analysis) or its answer stays put
 * while the data changes (by the test suite). No result-based reward pays for it: not the match, not
 * `executes`, not the row overlap.
 * @example
 * notFromData({ …, readsNoTable: true }); // true — `SELECT 72`
 */
export const notFromData = (s: RewardSample): boolean => s.readsNoTable === true || s.ignoresData === true;
