import { describe, expect, test } from "@jest/globals";
import { createGoldResultCache } from "../../rewards/prepareRewardSamples.js";
import type { QueryResult } from "../../sql/sqlExecutor.js";
import { filterGrpoPrompts } from "./filterGrpoPrompts.js";

/** Gold SQL → rows: "empty" returns none, "broken" throws, anything else one row. Counts executions. */
function goldCache() {
  const executed: string[] = [];
  const cache = createGoldResultCache({
    executor: {
      async execute(sql: string): Promise<QueryResult> {
        executed.push(sql);
        if (sql.includes("broken")) throw new Error('relation "broken" does not exist');
        const rows = sql.includes("empty") ? [] : [[1]];
        return { columns: [{ name: "n", type: "int4" }], rows, rowCount: rows.length, truncated: false, elapsedMs: 0 };
      },
    },
    analyze: () => null,
  });
  return { cache, executed };
}

const prompt = (id: string, goldSql?: string) => ({
  id,
  question: id,
  ...(goldSql === undefined ? {} : { goldSql }),
  prompt: { text: id },
  promptTokens: [0],
});

describe("filterGrpoPrompts", () => {
  test("leaves out prompts whose gold result is empty or whose gold fails, counts them, keeps the rest in order", async () => {
    const { cache, executed } = goldCache();
    const { prompts, stats } = await filterGrpoPrompts(
      [
        prompt("a", "SELECT 1 FROM t"),
        prompt("b", "SELECT 1 FROM t WHERE empty"),
        prompt("c", "SELECT broken"),
        prompt("d"),
        prompt("e", "SELECT 1 FROM t"),
        prompt("f", "SELECT 2 FROM t WHERE empty"),
      ],
      cache,
    );
    expect(prompts.map((p) => p.id)).toEqual(["a", "d", "e"]);
    expect(stats).toEqual({ total: 6, used: 3, emptyGold: 2, failedGold: 1 });
    // The gold cache executed each distinct gold once; scoring reuses it.
    expect(executed.filter((s) => s === "SELECT 1 FROM t")).toHaveLength(1);
    expect(cache.size).toBe(4);
  });
});
