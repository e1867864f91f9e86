/**
 * Safety: a query the safety policy refused (a write, several statements, a forbidden function) is
 * penalised; anything else scores 0.
 *
 * Range {penalty, 0}; penalty defaults to −1. Never null.
 *
 * @example
 * const safety = createSafetyPenalty({ penalty: -1 });
 * await safety([{ …, sql: "DELETE FROM invoices", validation: { …, refused: true } }]); // [-1]
 */
import type { RewardFunction } from "./rewardSample.js";

export interface SafetyPenaltyOptions {
  /** Score of a refused query. Default −1. */
  penalty?: number;
}

export function createSafetyPenalty(options: SafetyPenaltyOptions = {}): RewardFunction {
  const penalty = options.penalty ?? -1;
  return async (samples) =>
    samples.map((s) =>
      s.validation?.refused === true || (s.execution?.ok === false && s.execution.kind === "refused") ? penalty : 0,
    );
}
