/**
 * Result-row overlap: the F1 of the candidate's rows against the gold rows, on complete results, averaged over
 * the database and the variants of its test suite.
 *
 * A row's key is its values normalised (numbers — and numeric strings from `numeric` columns — by value
 * to 12 significant digits, NULL as null, dates as ISO text) and sorted, so that column order does not
 * matter, as in execution match. Rows in common: as multisets, unless the gold query orders its rows
 * (`hasOuterOrderBy`, the one rule of execution match) — then position by position (row i with row i).
 * precision = common / |cand|, recall = common / |gold|, F1 = 2PR/(P+R). Both empty → 1; one empty → 0.
 * F1 = 1 exactly when the rows match as execution match compares them (up to its number tolerance).
 *
 * Per database: the complete results (`completeExecution` / `completeGoldExecution` when the capped one was
 * cut: `LIMIT 1000` of an 11,271-row gold scores ≈ 0.16, not 1); a result still cut past 100,000 rows, or a
 * candidate that failed there, scores 0. The reward is the mean over the database and `variants`.
 *
 * Range [0, 1]. 0 when the candidate did not execute or its result does not come from the data
 * (`notFromData`: the count hack); null without a gold query, when the gold query itself failed, or when the
 * gold is empty everywhere (`goldUninformative`: nothing to overlap).
 *
 * @example
 * // gold rows [[1],[2],[3],[4]], candidate rows [[1],[2]] → P = 1, R = 0.5, F1 = 0.667
 * await rowOverlapReward([sample]); // [0.6666…]
 */
import { hasOuterOrderBy } from "../sql/executionMatch.js";
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";
import { type RewardFunction, notFromData } from "./rewardSample.js";

const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function valueKey(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "bigint") return `n:${Number(value).toPrecision(12)}`;
  if (typeof value === "string" && NUMERIC_TEXT.test(value.trim())) return `n:${Number(value).toPrecision(12)}`;
  if (value instanceof Date) return `d:${value.toISOString()}`;
  if (typeof value === "boolean") return `b:${value}`;
  if (typeof value === "object") return `j:${JSON.stringify(value)}`;
  return `s:${String(value)}`;
}

/** A column-order-free key of one row. */
export function rowKey(row: readonly unknown[]): string {
  return JSON.stringify(row.map(valueKey).sort());
}

/** F1 of two row lists: as multisets, or position by position when `ordered`. */
export function rowOverlapF1(
  candidate: readonly (readonly unknown[])[],
  gold: readonly (readonly unknown[])[],
  ordered = false,
): number {
  if (candidate.length === 0 && gold.length === 0) return 1;
  if (candidate.length === 0 || gold.length === 0) return 0;
  if (ordered) {
    let same = 0;
    for (let i = 0; i < Math.min(candidate.length, gold.length); i++)
      if (rowKey(candidate[i]!) === rowKey(gold[i]!)) same += 1;
    return f1(same, candidate.length, gold.length);
  }
  const counts = new Map<string, number>();
  for (const row of gold) counts.set(rowKey(row), (counts.get(rowKey(row)) ?? 0) + 1);
  let common = 0;
  for (const row of candidate) {
    const key = rowKey(row);
    const left = counts.get(key) ?? 0;
    if (left > 0) {
      common += 1;
      counts.set(key, left - 1);
    }
  }
  return f1(common, candidate.length, gold.length);
}

function f1(common: number, candidateRows: number, goldRows: number): number {
  if (common === 0) return 0;
  const precision = common / candidateRows;
  const recall = common / goldRows;
  return (2 * precision * recall) / (precision + recall);
}

/** F1 on one database: 0 when the candidate failed there or a result is still cut. */
function databaseF1(gold: ExecutionOutcome, candidate: ExecutionOutcome, ordered: boolean): number {
  if (!gold.ok || !candidate.ok || gold.result.truncated || candidate.result.truncated) return 0;
  return rowOverlapF1(candidate.result.rows, gold.result.rows, ordered);
}

export const rowOverlapReward: RewardFunction = async (samples) =>
  samples.map((s) => {
    if (s.goldSql === undefined || s.goldExecution?.ok !== true || s.goldUninformative === true) return null;
    if (s.execution?.ok !== true || notFromData(s)) return 0;
    const ordered = hasOuterOrderBy(s.goldSql);
    const scores = [
      databaseF1(s.completeGoldExecution ?? s.goldExecution, s.completeExecution ?? s.execution, ordered),
      ...(s.variants ?? []).map((v) => databaseF1(v.gold, v.candidate, ordered)),
    ];
    return scores.reduce((a, b) => a + b, 0) / scores.length;
  });
