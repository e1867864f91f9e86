/** Shared sample builders for the reward tests (test-only). */
import type { ExecutionOutcome, QueryResult } from "../sql/sqlExecutor.js";
import type { RewardSample } from "./rewardSample.js";

export function resultOf(rows: unknown[][]): ExecutionOutcome {
  const result: QueryResult = {
    columns: (rows[0] ?? []).map((_, j) => ({ name: `c${j}`, type: "text" })),
    rows,
    rowCount: rows.length,
    truncated: false,
    elapsedMs: 1,
  };
  return { ok: true, result };
}

export function sample(overrides: Partial<RewardSample> = {}): RewardSample {
  return { question: "q", completion: "SELECT 1", sql: "SELECT 1", goldSql: "SELECT 1", ...overrides };
}
