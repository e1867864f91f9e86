/**
 * Partial credit for SQL that runs but gives the wrong answer (Arctic-Text2SQL-R1: 0.1).
 *
 * Range {0, credit}: `credit` when the candidate executed without error and does not earn the match credit
 * (executionMatchReward's `earnsMatch`); 0 when it earns it (the match reward pays for that), did not execute,
 * or its result does not come from the data (`notFromData`: it reads no table, or its answer stays put while
 * the data changes — running `SELECT 24` is no progress towards a query). null without a gold query.
 *
 * @example
 * const reward = createExecutesButWrongReward({ credit: 0.1 });
 * await reward([{ …, execution: { ok: true, result }, match: false }]); // [0.1]
 * await reward([{ …, execution: { ok: true, result }, match: true, readsNoTable: true }]); // [0]
 */
import { earnsMatch } from "./executionMatchReward.js";
import { type RewardFunction, notFromData } from "./rewardSample.js";

export interface ExecutesButWrongOptions {
  /** Credit for an executing but wrong query. Default 0.1 (Arctic-Text2SQL-R1). */
  credit?: number;
}

export function createExecutesButWrongReward(options: ExecutesButWrongOptions = {}): RewardFunction {
  const credit = options.credit ?? 0.1;
  return async (samples) =>
    samples.map((s) => {
      if (s.goldSql === undefined) return null;
      return s.execution?.ok === true && !earnsMatch(s) && !notFromData(s) ? credit : 0;
    });
}
