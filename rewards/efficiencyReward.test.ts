import { describe, expect, it } from "@jest/globals";
import type { ExecuteOptions, QueryResult } from "../sql/sqlExecutor.js";
import { createEfficiencyReward, median, rvesTier } from "./efficiencyReward.js";
import { sample } from "./rewardTestSamples.js";

/** An executor whose queries take the time named in their SQL comment (`/* 5ms *\/`). */
function sleepingExecutor() {
  const calls: string[] = [];
  return {
    calls,
    async execute(sql: string, _options?: ExecuteOptions): Promise<QueryResult> {
      calls.push(sql);
      const ms = Number(/(\d+)ms/.exec(sql)?.[1] ?? 0);
      await new Promise((r) => setTimeout(r, ms));
      return { columns: [], rows: [], rowCount: 0, truncated: false, elapsedMs: ms };
    },
  };
}

describe("efficiencyReward", () => {
  it.each<[number, number]>([
    [3, 1.25],
    [2, 1.25],
    [1.5, 1],
    [1, 1],
    [0.7, 0.75],
    [0.3, 0.5],
    [0.1, 0.25],
  ])("R-VES tier of τ = %d is %d", (ratio, tier) => {
    expect(rvesTier(ratio)).toBe(tier);
  });

  it("takes the median, robust to one slow run", () => {
    expect(median([1, 100, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("times correct candidates against gold (median of k runs), caches gold, gives 0 to wrong ones", async () => {
    const executor = sleepingExecutor();
    const reward = createEfficiencyReward({ executor, runs: 3 });
    const gold = "SELECT 1 /* 40ms */";
    const values = await reward([
      sample({ sql: "SELECT 1 /* 5ms */", goldSql: gold, match: true }),
      sample({ sql: "SELECT 1 /* 200ms */", goldSql: gold, match: true }),
      sample({ sql: "SELECT 2", goldSql: gold, match: false }),
      sample({ goldSql: undefined }),
    ]);
    expect(values).toEqual([1.25, 0.25, 0, null]);
    expect(executor.calls.filter((s) => s === gold)).toHaveLength(3);
  });
});
