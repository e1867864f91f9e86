/**
 * The scoring step before the rewards: for each candidate, validate → execute (if allowed) → compare with
 * the gold result (on complete results: `match` may re-execute a cut one) → analyse the tables/columns used.
 * Gold queries are executed and analysed once and cached (`createGoldResultCache`). Candidates are processed
 * concurrently (the executor serialises what it must), so validation and execution overlap with whatever
 * else is awaiting.
 *
 * The count hack is closed here: when the gold query reads a table and the candidate reads none (`SELECT 72`
 * against `SELECT count(*) FROM …`), the sample is marked `readsNoTable` and the result-based rewards
 * (execution match, row overlap) give it nothing — its result can equal the gold's only by copying a
 * number, not by querying. A candidate the analyser cannot parse is not marked (it may read tables); the test
 * suite catches it by behaviour (`ignoresData`: its answer stays put while the data changes).
 *
 * With `env.compare` (rewards/sqlRewardEnvironment.ts) the comparison is on complete results and on the
 * test suite of the database (sql/testSuiteMatch.ts): `match` (EX), `suiteMatch`, `variants`, the complete
 * results of cut ones, `goldUninformative`, `ignoresData`. Without it, `match` alone decides on the database
 * and an empty gold result is uninformative (nothing can show a right query from `WHERE false`).
 *
 * The SQL toolkit is injected (`RewardEnvironment`) so that rewards/ depends only on interfaces; the
 * trainers wire sql/validateSql, sql/executionMatch and sql/analyzeSql into it.
 */
import {
  type ExecuteOptions,
  type ExecutionOutcome,
  executeOutcome,
  type QueryResult,
  type SqlExecutor,
} from "../sql/sqlExecutor.js";
import type { RewardSample, SampleValidation, SchemaItems } from "./rewardSample.js";

export interface RewardEnvironment {
  executor: Pick<SqlExecutor, "execute">;
  validate(sql: string): Promise<SampleValidation> | SampleValidation;
  /**
   * docs/execution-match.md of a candidate result against the gold result, decided on complete results
   * (sql/executionMatch.ts `executionMatchComplete`: a cut result is fetched again, bounded).
   */
  match(gold: QueryResult, candidate: QueryResult, goldSql: string, candidateSql: string): boolean | Promise<boolean>;
  /**
   * Everything the comparison of an executed candidate with the executed gold records on the sample (complete
   * results, the test suite); when present it replaces `match`.
   */
  compare?(
    goldSql: string,
    candidateSql: string,
    gold: ExecutionOutcome & { ok: true },
    candidate: ExecutionOutcome & { ok: true },
  ): Promise<SampleComparison>;
  /** Tables and columns a query uses; null when it cannot be analysed. */
  analyze(sql: string): SchemaItems | null;
  executeOptions?: ExecuteOptions;
}

/** What `RewardEnvironment.compare` records on a sample. */
export type SampleComparison = Pick<
  RewardSample,
  | "match"
  | "suiteMatch"
  | "completeExecution"
  | "completeGoldExecution"
  | "variants"
  | "goldUninformative"
  | "ignoresData"
>;

export interface RewardCandidate {
  question: string;
  completion: string;
  sql: string | null;
  goldSql?: string;
}

/** Gold execution + analysis, computed once per gold SQL. */
export interface GoldResultCache {
  get(goldSql: string): Promise<{ execution: ExecutionOutcome; items: SchemaItems | null }>;
  readonly size: number;
}

export function createGoldResultCache(
  env: Pick<RewardEnvironment, "executor" | "analyze" | "executeOptions">,
): GoldResultCache {
  const cache = new Map<string, Promise<{ execution: ExecutionOutcome; items: SchemaItems | null }>>();
  return {
    get(goldSql) {
      let entry = cache.get(goldSql);
      if (entry === undefined) {
        entry = executeOutcome(env.executor, goldSql, env.executeOptions).then((execution) => ({
          execution,
          items: env.analyze(goldSql),
        }));
        cache.set(goldSql, entry);
      }
      return entry;
    },
    get size() {
      return cache.size;
    },
  };
}

export async function prepareRewardSamples(
  candidates: readonly RewardCandidate[],
  env: RewardEnvironment,
  gold: GoldResultCache = createGoldResultCache(env),
): Promise<RewardSample[]> {
  return Promise.all(
    candidates.map(async (c) => {
      const sample: RewardSample = { ...c };
      const goldEntry = c.goldSql === undefined ? undefined : await gold.get(c.goldSql);
      if (goldEntry !== undefined) {
        sample.goldExecution = goldEntry.execution;
        if (goldEntry.items !== null) sample.goldSchemaItems = goldEntry.items;
      }
      if (c.sql === null) return sample;
      sample.validation = await env.validate(c.sql);
      const items = env.analyze(c.sql);
      if (items !== null) sample.schemaItems = items;
      if (sample.validation.refused) return sample;
      sample.execution = await executeOutcome(env.executor, c.sql, env.executeOptions);
      const goldRun = goldEntry?.execution;
      if (sample.execution.ok && goldRun?.ok === true && c.goldSql !== undefined) {
        if (env.compare) Object.assign(sample, await env.compare(c.goldSql, c.sql, goldRun, sample.execution));
        else {
          sample.match = await env.match(goldRun.result, sample.execution.result, c.goldSql, c.sql);
          if (goldRun.result.rowCount === 0 && !goldRun.result.truncated) sample.goldUninformative = true;
        }
      }
      if ((goldEntry?.items?.tables.length ?? 0) > 0 && items !== null && items.tables.length === 0)
        sample.readsNoTable = true;
      return sample;
    }),
  );
}
