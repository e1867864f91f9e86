import { describe, expect, it } from "@jest/globals";
import { rowOverlapF1, rowOverlapReward } from "./rowOverlapReward.js";
import { resultOf, sample } from "./rewardTestSamples.js";

describe("rowOverlapReward", () => {
  it.each<[string, unknown[][], unknown[][], number]>([
    ["identical", [[1], [2]], [[1], [2]], 1],
    ["half recall", [[1], [2]], [[1], [2], [3], [4]], 2 / 3],
    ["half precision", [[1], [9]], [[1]], 2 / 3],
    ["disjoint", [[5]], [[6]], 0],
    ["both empty", [], [], 1],
    ["candidate empty", [], [[1]], 0],
    ["column order free", [["a", 1]], [[1, "a"]], 1],
    ["numeric string equals number", [["100000.00"]], [[100000]], 1],
    ["multiset: duplicates count once each", [[1], [1]], [[1]], 2 / 3],
    ["null equals null", [[null, 2]], [[null, 2]], 1],
  ])("%s", (_name, candidate, gold, expected) => {
    expect(rowOverlapF1(candidate, gold)).toBeCloseTo(expected, 10);
  });

  it("is 0 when the candidate failed and null when gold failed", async () => {
    const failed = { ok: false as const, kind: "error" as const, code: "error", error: "boom" };
    const values = await rowOverlapReward([
      sample({ execution: failed, goldExecution: resultOf([[1]]) }),
      sample({ execution: resultOf([[1]]), goldExecution: failed }),
      sample({ execution: resultOf([[1], [2]]), goldExecution: resultOf([[2]]) }),
    ]);
    expect(values[0]).toBe(0);
    expect(values[1]).toBeNull();
    expect(values[2]).toBeCloseTo(2 / 3, 10);
  });
});
