import { describe, expect, it } from "@jest/globals";
import { createFormatReward, formatScore } from "./formatReward.js";
import { sample } from "./rewardTestSamples.js";

describe("formatReward", () => {
  it.each<[string, string, number]>([
    ["full shape", "<reasoning>\nsum budgets\n</reasoning>\n```sql\nSELECT sum(budget) FROM projects\n```", 1],
    ["bare SQL still gets a signal", "SELECT 1", 0.25],
    ["fenced, no reasoning", "```sql\nSELECT 1\n```", 0.75],
    ["reasoning after the fence", "```sql\nSELECT 1\n```\n<reasoning>x</reasoning>", 0.5],
    ["empty reasoning", "<reasoning> </reasoning>\n```sql\nSELECT 1\n```", 0.75],
    ["two fences", "<reasoning>x</reasoning>\n```sql\nSELECT 1\n```\n```sql\nSELECT 2\n```", 0.75],
    ["trailing chatter", "<reasoning>x</reasoning>\n```sql\nSELECT 1\n```\nHope this helps", 0.75],
    ["no SQL at all", "I cannot answer that.", 0],
  ])("%s", (_name, text, expected) => {
    expect(formatScore(text)).toBe(expected);
  });

  it.each<[string, number]>([
    ["SELECT name FROM projects", 1],
    ["  WITH t AS (SELECT 1) SELECT * FROM t", 1],
    ["SELECT 1; DELETE FROM invoices", 0.5],
    ["the answer is SELECT 1", 0.5],
    ["projects", 0],
  ])("bare-SQL style: %s → %d", (text, expected) => {
    expect(formatScore(text, true)).toBe(expected);
  });

  it("scores each sample of a batch", async () => {
    expect(await createFormatReward()([sample({ completion: "SELECT 1" }), sample({ completion: "no" })])).toEqual([
      0.25, 0,
    ]);
  });
});
