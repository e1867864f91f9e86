import { describe, expect, it } from "@jest/globals";
import { groupAdvantages } from "./groupAdvantages.js";

describe("groupAdvantages", () => {
  it("scales by the unbiased group std (GRPO) and counts zero-variance groups", () => {
    const r = groupAdvantages([1, 0, 0, 0.5, 0.5, 0.5], { groupSize: 3, epsilon: 0 });
    const std = Math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2); // 0.57735
    expect(r.advantages[0]).toBeCloseTo(2 / 3 / std, 10);
    expect(r.advantages[1]).toBeCloseTo(-(1 / 3) / std, 10);
    expect(r.advantages.slice(3)).toEqual([0, 0, 0]);
    expect(r.zeroVarianceGroups).toBe(1);
    expect(r.zeroVarianceGroupIndices).toEqual([1]);
    expect(r.stds[0]).toBeCloseTo(0.57735027, 7);
  });

  it("Dr. GRPO (scaleRewards none) subtracts the mean only", () => {
    const r = groupAdvantages([2, 0, 1, 1], { groupSize: 2, scaleRewards: "none" });
    expect(r.advantages).toEqual([1, -1, 0, 0]);
    expect(r.means).toEqual([1, 1]);
    expect(r.zeroVarianceGroups).toBe(1);
  });

  it("scaleRewards batch: the group's mean, the whole batch's unbiased std (TRL)", () => {
    const rewards = [1, 0, 0, 0.5, 0.5, 0.5, 2, 0, 1];
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const batchStd = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (rewards.length - 1));
    const r = groupAdvantages(rewards, { groupSize: 3, scaleRewards: "batch", epsilon: 0 });
    expect(r.advantages[0]).toBeCloseTo((1 - 1 / 3) / batchStd, 12);
    expect(r.advantages[6]).toBeCloseTo((2 - 1) / batchStd, 12);
    expect(r.advantages[8]).toBeCloseTo(0, 12);
    expect(r.advantages.slice(3, 6)).toEqual([0, 0, 0]);
    expect(r.zeroVarianceGroupIndices).toEqual([1]); // zero variance is a group's property at every scale
    // and differs from the group scale, where group 2 (std 1) is divided by its own std
    expect(groupAdvantages(rewards, { groupSize: 3, epsilon: 0 }).advantages[6]).toBeCloseTo(1, 12);
  });

  it("refuses an unknown scale", () => {
    expect(() => groupAdvantages([1, 0], { groupSize: 2, scaleRewards: "std" as never })).toThrow(/group, batch, none/);
  });

  it("adds ε to the std", () => {
    const r = groupAdvantages([1, 0], { groupSize: 2, epsilon: 0.1 });
    expect(r.advantages[0]).toBeCloseTo(0.5 / (Math.SQRT1_2 + 0.1), 10);
  });

  it("rejects rewards that do not split into groups", () => {
    expect(() => groupAdvantages([1, 2, 3], { groupSize: 2 })).toThrow(/groups of 2/);
  });
});
