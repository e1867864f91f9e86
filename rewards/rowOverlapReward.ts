/**
 * Result-row overlap: the F1 of the candidate's rows against the gold rows, as multisets.
 *
 * A row's key is its values normalised (numbers — and numeric strings from `numeric` columns — by value
 * to 12 significant digits, NULL as null, dates as ISO text) and sorted, so that column order does not
 * matter, as in execution match. precision = |cand ∩ gold| / |cand|, recall = |cand ∩ gold| / |gold|,
 * F1 = 2PR/(P+R). Both empty → 1; one empty → 0.
 *
 * Range [0, 1]. 0 when the candidate did not execute or reads no table while the gold does (`readsNoTable`,
 * the count hack); null without a gold query or when the gold query itself failed.
 *
 * @example
 * // gold rows [[1],[2],[3],[4]], candidate rows [[1],[2]] → P = 1, R = 0.5, F1 = 0.667
 * await rowOverlapReward([sample]); // [0.6666…]
 */
import type { RewardFunction } from "./rewardSample.js";

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

/** F1 of two row multisets. */
export function rowOverlapF1(
  candidate: readonly (readonly unknown[])[],
  gold: readonly (readonly unknown[])[],
): number {
  if (candidate.length === 0 && gold.length === 0) return 1;
  if (candidate.length === 0 || gold.length === 0) return 0;
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
  if (common === 0) return 0;
  const precision = common / candidate.length;
  const recall = common / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

export const rowOverlapReward: RewardFunction = async (samples) =>
  samples.map((s) => {
    if (s.goldSql === undefined || s.goldExecution?.ok !== true) return null;
    if (s.execution?.ok !== true || s.readsNoTable === true) return 0;
    return rowOverlapF1(s.execution.result.rows, s.goldExecution.result.rows);
  });
