/**
 * Efficiency relative to gold when correct — BIRD's R-VES tiers.
 *
 * For a sample whose execution matches gold: run candidate and gold `runs` times each on the executor,
 * take the median wall time of each (robust to one slow run), τ = goldMs / candidateMs, and score
 *   τ ≥ 2 → 1.25,  1 ≤ τ < 2 → 1,  0.5 ≤ τ < 1 → 0.75,  0.25 ≤ τ < 0.5 → 0.5,  τ < 0.25 → 0.25.
 * Incorrect samples score 0 (as in R-VES); null without a gold query. Gold timings are cached per gold
 * SQL. Range {0, 0.25, 0.5, 0.75, 1, 1.25}.
 *
 * @example
 * const efficiency = createEfficiencyReward({ executor, runs: 5 });
 * // gold median 4 ms, candidate median 2 ms → τ = 2 → [1.25]
 */
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import type { RewardFunction } from "./rewardSample.js";

export interface EfficiencyRewardOptions {
  executor: Pick<SqlExecutor, "execute">;
  /** Timed runs per query; the median counts. Default 3. */
  runs?: number;
  /** Time limit of each timed run, milliseconds. Default 5000. */
  timeoutMs?: number;
}

/** R-VES tier of a time ratio τ = goldMs / candidateMs. */
export function rvesTier(ratio: number): number {
  if (ratio >= 2) return 1.25;
  if (ratio >= 1) return 1;
  if (ratio >= 0.5) return 0.75;
  if (ratio >= 0.25) return 0.5;
  return 0.25;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function createEfficiencyReward(options: EfficiencyRewardOptions): RewardFunction {
  const runs = options.runs ?? 3;
  const timeoutMs = options.timeoutMs ?? 5000;
  const goldTimes = new Map<string, Promise<number>>();
  const medianMs = async (sql: string): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const t0 = performance.now();
      await options.executor.execute(sql, { timeoutMs });
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  return async (samples) => {
    const out: (number | null)[] = [];
    // Sequential on purpose: concurrent timed runs on one connection would measure each other.
    for (const s of samples) {
      if (s.goldSql === undefined) out.push(null);
      else if (s.match !== true || s.sql === null) out.push(0);
      else {
        let gold = goldTimes.get(s.goldSql);
        if (gold === undefined) {
          gold = medianMs(s.goldSql);
          goldTimes.set(s.goldSql, gold);
        }
        const goldMs = await gold;
        const candidateMs = await medianMs(s.sql);
        out.push(rvesTier(goldMs / Math.max(candidateMs, 1e-6)));
      }
    }
    return out;
  };
}
