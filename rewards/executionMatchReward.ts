/**
 * Execution match against the gold query — the dominant reward term.
 *
 * Range {0, 1}: 1 when the candidate's result equals the gold result under docs/execution-match.md
 * (multisets of rows, column order free, numbers by value, ORDER BY respected when gold has one) on the
 * database AND on every variant of its test suite (`suiteMatch`, when the environment has a suite); 0 when it
 * does not, when the candidate has no SQL, was refused, failed or timed out; 0 when its result does not come
 * from the data (`notFromData`: `SELECT 72`, or an answer that stays put while the data changes); 0 when the
 * gold result is empty everywhere (`goldUninformative`: `WHERE false` would match it). null when there is no
 * gold query (nothing to compare with).
 *
 * @example
 * await executionMatchReward([{ question, completion, sql: "SELECT 1", goldSql: "SELECT 1", match: true }]); // [1]
 * await executionMatchReward([{ question, completion, sql: null, goldSql: "SELECT 1" }]);                  // [0]
 * await executionMatchReward([{ question, completion, sql: "SELECT 72", goldSql, match: true, readsNoTable: true }]); // [0]
 * await executionMatchReward([{ question, completion, sql, goldSql, match: true, suiteMatch: false }]);    // [0]
 */
import { type RewardFunction, type RewardSample, notFromData } from "./rewardSample.js";

/** Whether a sample earns the match credit (the one rule executionMatchReward and `executes` share). */
export const earnsMatch = (s: RewardSample): boolean =>
  (s.suiteMatch ?? s.match) === true && !notFromData(s) && s.goldUninformative !== true;

export const executionMatchReward: RewardFunction = async (samples) =>
  samples.map((s) => (s.goldSql === undefined ? null : earnsMatch(s) ? 1 : 0));
