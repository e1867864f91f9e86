import { describe, expect, test } from "@jest/globals";
import { resultKey, voteOnResults } from "./voteOnResults.js";

describe("vote over execution results", () => {
  test("result keys ignore row order, column order and numeric spelling", () => {
    expect(
      resultKey([
        [1, "a"],
        [2, "b"],
      ]),
    ).toBe(
      resultKey([
        ["b", "2.00"],
        ["a", 1],
      ]),
    );
    expect(resultKey([[1]])).not.toBe(resultKey([[2]]));
    expect(resultKey([[null]])).not.toBe(resultKey([["null"]]));
  });

  test("largest group wins; ties go to summed confidence; share counts every candidate", () => {
    const v = voteOnResults([
      { sql: "a", confidence: 0.2, resultKey: "x" },
      { sql: "b", confidence: 0.9, resultKey: "y" },
      { sql: "c", confidence: 0.3, resultKey: "x" },
      { sql: null, confidence: 0, resultKey: null },
    ]);
    expect(v).toEqual({ winner: 2, votes: 2, share: 0.5 });
    expect(
      voteOnResults([
        { sql: "a", confidence: 0.2, resultKey: "x" },
        { sql: "b", confidence: 0.4, resultKey: "y" },
      ]),
    ).toEqual({ winner: 1, votes: 1, share: 0.5 });
    expect(voteOnResults([{ sql: "a", confidence: 1, resultKey: null }])).toEqual({ winner: null, votes: 0, share: 0 });
    expect(voteOnResults([])).toEqual({ winner: null, votes: 0, share: 0 });
  });
});
