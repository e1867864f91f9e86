import { describe, expect, it } from "@jest/globals";
import type { QueryResult } from "../sql/sqlExecutor.js";
import { createGoldResultCache, prepareRewardSamples, type RewardEnvironment } from "./prepareRewardSamples.js";

/** A tiny table-backed executor: `SELECT n` returns [[n]]; anything with "bad" throws. */
function environment(): RewardEnvironment & { executed: string[] } {
  const executed: string[] = [];
  return {
    executed,
    executor: {
      async execute(sql: string): Promise<QueryResult> {
        executed.push(sql);
        if (sql.includes("bad")) throw new Error(`column "bad" does not exist`);
        const n = Number(/\d+/.exec(sql)?.[0]);
        return { columns: [{ name: "n", type: "int4" }], rows: [[n]], rowCount: 1, truncated: false, elapsedMs: 0 };
      },
    },
    validate: (sql) => ({
      syntaxValid: true,
      schemaValid: !sql.includes("bad"),
      refused: /delete/i.test(sql),
      errors: [],
    }),
    match: (gold, candidate) => JSON.stringify(gold.rows) === JSON.stringify(candidate.rows),
    analyze: (sql) => ({ tables: sql.includes("FROM t") ? ["t"] : [], columns: [] }),
  };
}

describe("prepareRewardSamples", () => {
  it("validates, executes, matches and caches the gold result", async () => {
    const env = environment();
    const gold = createGoldResultCache(env);
    const samples = await prepareRewardSamples(
      [
        { question: "q", completion: "SELECT 1", sql: "SELECT 1", goldSql: "SELECT 1 FROM t" },
        { question: "q", completion: "SELECT 2", sql: "SELECT 2", goldSql: "SELECT 1 FROM t" },
        { question: "q", completion: "bad", sql: "SELECT bad", goldSql: "SELECT 1 FROM t" },
        { question: "q", completion: "DELETE FROM t", sql: "DELETE FROM t", goldSql: "SELECT 1 FROM t" },
        { question: "q", completion: "?", sql: null, goldSql: "SELECT 1 FROM t" },
      ],
      env,
      gold,
    );
    expect(samples.map((s) => s.match)).toEqual([true, false, undefined, undefined, undefined]);
    expect(samples[2]!.execution).toMatchObject({ ok: false, kind: "error", error: `column "bad" does not exist` });
    expect(samples[3]!.validation?.refused).toBe(true);
    expect(samples[3]!.execution).toBeUndefined();
    expect(samples[4]!.goldSchemaItems).toEqual({ tables: ["t"], columns: [] });
    expect(env.executed.filter((s) => s === "SELECT 1 FROM t")).toHaveLength(1);
    expect(env.executed).not.toContain("DELETE FROM t");
    expect(gold.size).toBe(1);
  });
});
