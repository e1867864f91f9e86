import { describe, expect, it } from "@jest/globals";
import type { QueryResult } from "../sql/sqlExecutor.js";
import { createGoldResultCache, prepareRewardSamples, type RewardEnvironment } from "./prepareRewardSamples.js";
import { executionMatchReward } from "./executionMatchReward.js";
import { rowOverlapReward } from "./rowOverlapReward.js";

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

describe("prepareRewardSamples: the count hack", () => {
  it("a candidate that reads no table against a gold that does collects no result-based reward", async () => {
    const env = environment();
    const matchCalls: [string, string][] = [];
    env.match = async (gold, candidate, goldSql, candidateSql) => {
      matchCalls.push([goldSql, candidateSql]);
      return JSON.stringify(gold.rows) === JSON.stringify(candidate.rows);
    };
    const samples = await prepareRewardSamples(
      [
        // gold `SELECT 72 FROM t` (a count over t) vs the constant `SELECT 72`: same result, no table read
        { question: "q", completion: "SELECT 72", sql: "SELECT 72", goldSql: "SELECT 72 FROM t" },
        { question: "q", completion: "SELECT 72 FROM t", sql: "SELECT 72 FROM t", goldSql: "SELECT 72 FROM t" },
        // a gold that reads no table itself: the constant is a fair answer
        { question: "q", completion: "SELECT 5", sql: "SELECT 5", goldSql: "SELECT 5" },
      ],
      env,
    );
    expect(samples.map((s) => s.match)).toEqual([true, true, true]);
    expect(samples.map((s) => s.readsNoTable)).toEqual([true, undefined, undefined]);
    expect(await executionMatchReward(samples)).toEqual([0, 1, 1]);
    expect(await rowOverlapReward(samples)).toEqual([0, 1, 1]);
    expect(matchCalls).toContainEqual(["SELECT 72 FROM t", "SELECT 72"]); // match gets the candidate's SQL
  });

  it("a candidate the analyser cannot read is not marked", async () => {
    const env = environment();
    env.analyze = (sql) =>
      sql.includes("INTERSECT") ? null : { tables: sql.includes("FROM t") ? ["t"] : [], columns: [] };
    const [s] = await prepareRewardSamples(
      [{ question: "q", completion: "", sql: "SELECT 72 INTERSECT SELECT 72", goldSql: "SELECT 72 FROM t" }],
      env,
    );
    expect(s!.readsNoTable).toBeUndefined();
  });
});
