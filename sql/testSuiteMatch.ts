/**
 * Test-suite execution match (Zhong, Yu & Klein 2020; docs/execution-match.md "Test suite"): a candidate
 * matches the gold query only when their results match on the real database AND on every variant of it
 * (sql/databaseVariants.ts) where the gold runs. A result that does not come from the data — `SELECT 24 FROM
 * projects LIMIT 1` for a count of 24 — matches on the real database and fails on a variant whose count differs.
 *
 * Algorithm (`runOnSuite`, then `testSuiteVerdict`):
 *  1. Every result is complete: one cut at the row cap is run again up to COMPLETE_RESULT_MAX_ROWS
 *     (`completeOutcome`), so neither the match nor the row overlap rests on partial rows.
 *  2. The gold runs on each variant once: cached by (variant, SQL, time limit). A variant where the gold
 *     fails or times out is skipped for that gold (not counted against the candidate).
 *  3. The candidate runs on each remaining variant; `executionMatch` with the real database's rule for order
 *     (`hasOuterOrderBy` of the gold) decides each.
 *  4. match = real match ∧ every compared variant matches ∧ informative, where informative = the gold returns
 *     a row somewhere (real or a variant): an empty gold everywhere cannot tell a right query from `WHERE false`.
 *  5. ignoresData = the candidate's non-empty result is the same (as a multiset) on every database while the
 *     gold's changes: whatever it reads, its answer does not follow the data. The rewards treat it as reading
 *     no table (rewards/rewardSample.ts `notFromData`).
 *
 * @example
 * const variants = await databaseVariants(db, { k: 3 });
 * const runs = await runOnSuite(variants, goldSql, candidateSql);
 * testSuiteVerdict({ gold, candidate }, runs.compared, hasOuterOrderBy(goldSql)).match;
 */
import type { DatabaseVariants } from "./databaseVariants.js";
import { executeComplete, executionMatch } from "./executionMatch.js";
import { type ExecuteOptions, type ExecutionOutcome, executeOutcome, type QueryResult } from "./sqlExecutor.js";

/** One database of the suite where the gold ran: both complete outcomes. */
export interface SuiteRun {
  gold: { ok: true; result: QueryResult };
  candidate: ExecutionOutcome;
}

export interface TestSuiteVerdict {
  /** Match on the real database and every compared variant, with an informative gold (step 4). */
  match: boolean;
  /** Match on the real database alone (EX). */
  realMatch: boolean;
  informative: boolean;
  ignoresData: boolean;
  /** Variants compared (where the gold ran). */
  compared: number;
  reason: string;
}

/**
 * `first` when it is complete (or failed); else `sql` run again with the row cap raised to
 * COMPLETE_RESULT_MAX_ROWS (still cut past it: such a result never matches).
 */
export async function completeOutcome(
  executor: { execute(sql: string, options?: ExecuteOptions): Promise<QueryResult> },
  sql: string,
  options: ExecuteOptions = {},
  first?: ExecutionOutcome,
): Promise<ExecutionOutcome> {
  if (first !== undefined && (!first.ok || !first.result.truncated)) return first;
  const capped = first === undefined ? await executeOutcome(executor, sql, options) : first;
  if (!capped.ok || !capped.result.truncated) return capped;
  return executeComplete(executor, sql, options);
}

const goldCaches = new WeakMap<DatabaseVariants, Map<string, Promise<ExecutionOutcome>>>();

/** The gold's complete outcome on variant `i`, computed once per (variant, SQL, time limit). */
export function goldOnVariant(
  variants: DatabaseVariants,
  i: number,
  goldSql: string,
  options: ExecuteOptions = {},
): Promise<ExecutionOutcome> {
  let cache = goldCaches.get(variants);
  if (!cache) {
    cache = new Map();
    goldCaches.set(variants, cache);
  }
  const key = JSON.stringify([i, options.timeoutMs ?? null, goldSql]);
  let entry = cache.get(key);
  if (!entry) {
    entry = completeOutcome(onVariant(variants, i), goldSql, options);
    cache.set(key, entry);
  }
  return entry;
}

const onVariant = (variants: DatabaseVariants, i: number) => ({
  execute: (sql: string, options?: ExecuteOptions) => variants.execute(i, sql, options),
});

/** Steps 1–3 on the variants: the gold (cached) and the candidate, complete, on each variant where the gold runs. */
export async function runOnSuite(
  variants: DatabaseVariants,
  goldSql: string,
  candidateSql: string,
  options: ExecuteOptions = {},
): Promise<{ compared: SuiteRun[]; skipped: number }> {
  const all = await Promise.all(
    Array.from({ length: variants.k }, async (_, i) => {
      const gold = await goldOnVariant(variants, i, goldSql, options);
      if (!gold.ok) return null;
      const candidate = await completeOutcome(onVariant(variants, i), candidateSql, options);
      return { gold, candidate };
    }),
  );
  const compared = all.filter((r): r is SuiteRun => r !== null);
  return { compared, skipped: all.length - compared.length };
}

/** Steps 3–5: the verdict over the real database's complete outcomes and the variants compared. */
export function testSuiteVerdict(
  real: { gold: ExecutionOutcome; candidate: ExecutionOutcome },
  runs: readonly SuiteRun[],
  ordered: boolean,
): TestSuiteVerdict {
  const first = executionMatch(real.gold, real.candidate, { ordered });
  const base = { realMatch: first.match, compared: runs.length };
  const golds = [real.gold, ...runs.map((r) => r.gold)].filter((g) => g.ok);
  const informative = golds.some((g) => g.ok && g.result.rowCount > 0);
  const ignoresData = candidateIgnoresData(real, runs);
  const flags = { informative, ignoresData };
  if (!first.match) return { match: false, ...base, ...flags, reason: `on the database: ${first.reason}` };
  for (const [i, run] of runs.entries()) {
    const verdict = executionMatch(run.gold, run.candidate, { ordered });
    if (!verdict.match) return { match: false, ...base, ...flags, reason: `on variant ${i + 1}: ${verdict.reason}` };
  }
  if (!informative)
    return {
      match: false,
      ...base,
      ...flags,
      reason: `the gold result is empty on the database and on ${runs.length} variant(s): it cannot tell a right query from a wrong one`,
    };
  return { match: true, ...base, ...flags, reason: `same result on the database and on ${runs.length} variant(s)` };
}

/** Step 5. */
function candidateIgnoresData(
  real: { gold: ExecutionOutcome; candidate: ExecutionOutcome },
  runs: readonly SuiteRun[],
): boolean {
  if (runs.length === 0 || !real.candidate.ok || !real.gold.ok || real.candidate.result.rowCount === 0) return false;
  const sameCandidate = runs.every((r) => executionMatch(real.candidate, r.candidate, { ordered: false }).match);
  const goldChanges = runs.some((r) => !executionMatch(real.gold, r.gold, { ordered: false }).match);
  return sameCandidate && goldChanges;
}
