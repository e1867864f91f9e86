/**
 * Partial credit for SQL that runs but gives the wrong answer (Arctic-Text2SQL-R1: 0.1).
 *
 * Range {0, credit}: `credit` when the candidate executed without error and does not match gold (a
 * `readsNoTable` constant counts as not matching, as in executionMatchReward); 0 when it matches (the match
 * reward pays for that) or did not execute. null without a gold query.
 *
 * @example
 * const reward = createExecutesButWrongReward({ credit: 0.1 });
 * await reward([{ …, execution: { ok: true, result }, match: false }]); // [0.1]
 */
import type { RewardFunction } from "./rewardSample.js";

export interface ExecutesButWrongOptions {
  /** Credit for an executing but wrong query. Default 0.1 (Arctic-Text2SQL-R1). */
  credit?: number;
}

export function createExecutesButWrongReward(options: ExecutesButWrongOptions = {}): RewardFunction {
  const credit = options.credit ?? 0.1;
  return async (samples) =>
    samples.map((s) => {
      if (s.goldSql === undefined) return null;
      return s.execution?.ok === true && (s.match !== true || s.readsNoTable === true) ? credit : 0;
    });
}
