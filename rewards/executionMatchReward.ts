/**
 * Execution match against the gold query — the dominant reward term.
 *
 * Range {0, 1}: 1 when the candidate's result equals the gold result under docs/execution-match.md
 * (multisets of rows, column order free, numbers by value, ORDER BY respected when gold has one), 0 when
 * it does not or when the candidate has no SQL, was refused, failed or timed out, and 0 when the gold reads
 * a table and the candidate reads none (`readsNoTable`: `SELECT 72` against a `SELECT count(*) FROM …` gold
 * collects nothing). null when there is no gold query (nothing to compare with).
 *
 * @example
 * await executionMatchReward([{ question, completion, sql: "SELECT 1", goldSql: "SELECT 1", match: true }]); // [1]
 * await executionMatchReward([{ question, completion, sql: null, goldSql: "SELECT 1" }]);                  // [0]
 * await executionMatchReward([{ question, completion, sql: "SELECT 72", goldSql, match: true, readsNoTable: true }]); // [0]
 */
import type { RewardFunction } from "./rewardSample.js";

export const executionMatchReward: RewardFunction = async (samples) =>
  samples.map((s) => (s.goldSql === undefined ? null : s.match === true && s.readsNoTable !== true ? 1 : 0));
