import { describe, expect, it } from "@jest/globals";
import { createWeightedReward, DEFAULT_REWARD_COMPONENTS } from "./weightedReward.js";
import { resultOf, sample } from "./rewardTestSamples.js";

describe("createWeightedReward", () => {
  it("totals are Σ weight · component, nulls adding nothing, every component reported", async () => {
    const reward = createWeightedReward({
      components: {
        a: { fn: async (s) => s.map((_, i) => i), weight: 2 },
        b: { fn: async (s) => s.map((_, i) => (i === 1 ? null : 0.5)), weight: -1 },
      },
    });
    const r = await reward([sample(), sample(), sample()]);
    expect(r.components).toEqual({ a: [0, 1, 2], b: [0.5, null, 0.5] });
    expect(r.totals).toEqual([-0.5, 2, 3.5]);
  });

  it("default mix: a correct, valid, safe query beats a refused one by more than the match term", async () => {
    const valid = { syntaxValid: true, schemaValid: true, refused: false, errors: [] };
    const components = DEFAULT_REWARD_COMPONENTS({ bareSql: true });
    const reward = createWeightedReward({ components });
    const r = await reward([
      sample({ validation: valid, execution: resultOf([[1]]), goldExecution: resultOf([[1]]), match: true }),
      sample({
        sql: "DELETE FROM invoices",
        completion: "DELETE FROM invoices",
        validation: { ...valid, refused: true },
      }),
    ]);
    for (let i = 0; i < 2; i += 1) {
      const expected = Object.entries(components).reduce(
        (sum, [name, c]) => sum + c.weight * (r.components[name]![i] ?? 0),
        0,
      );
      expect(r.totals[i]).toBeCloseTo(expected, 12);
    }
    expect(r.components.execution_match).toEqual([1, 0]);
    expect(r.components.safety).toEqual([0, -1]);
    expect(r.totals[0]! - r.totals[1]!).toBeGreaterThan(1);
  });

  it("weights override the default mix by name; an unknown name or a non-finite weight is refused", async () => {
    const components = DEFAULT_REWARD_COMPONENTS({ weights: { value_linking: 0.3, format: 0 } });
    expect(components.value_linking!.weight).toBe(0.3);
    expect(components.format!.weight).toBe(0);
    expect(DEFAULT_REWARD_COMPONENTS().value_linking!.weight).toBe(0);
    const r = await createWeightedReward({ components })([
      sample({ sql: "SELECT 1 WHERE x = 'a'", goldSql: "SELECT 1 WHERE x = 'a'" }),
    ]);
    expect(r.components.value_linking).toEqual([1]);
    expect(() => DEFAULT_REWARD_COMPONENTS({ weights: { value_link: 1 } })).toThrow(
      expect.objectContaining({
        message: "unknown reward component 'value_link'",
        hint: expect.stringContaining("value_linking"),
      }),
    );
    expect(() =>
      createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS({ weights: { format: Number.NaN } }) }),
    ).toThrow(/reward weight of 'format' is not a finite number/);
  });

  it("rejects a component that returns the wrong number of values", async () => {
    const reward = createWeightedReward({ components: { bad: { fn: async () => [1], weight: 1 } } });
    await expect(reward([sample(), sample()])).rejects.toThrow(/returned 1 values for 2 samples/);
  });
});
