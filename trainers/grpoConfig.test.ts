import { describe, expect, it } from "@jest/globals";
import { DEFAULT_GRPO_CONFIG, resolveGrpoConfig } from "./grpoConfig.js";

describe("resolveGrpoConfig", () => {
  it("fills the documented defaults (G = 8, β = 0.04)", () => {
    const c = resolveGrpoConfig({ maxSteps: 3 });
    expect(c.groupSize).toBe(8);
    expect(c.beta).toBe(0.04);
    expect(c.maxSteps).toBe(3);
    expect(c.lossType).toBe(DEFAULT_GRPO_CONFIG.lossType);
  });

  it("allows β = 0", () => {
    expect(resolveGrpoConfig({ beta: 0 }).beta).toBe(0);
  });

  it.each<[object, RegExp]>([
    [{ groupSize: 1 }, /groupSize.*at least two/],
    [{ lossType: "ppo" }, /lossType.*grpo, dr_grpo, dapo/],
    [{ beta: -1 }, /beta/],
    [{ temperature: 0 }, /temperature/],
    [{ groupsize: 4 }, /unknown GRPO config field 'groupsize'/],
  ])("rejects %j with a message that says how to fix it", (partial, pattern) => {
    try {
      resolveGrpoConfig(partial as never);
      throw new Error("accepted");
    } catch (error) {
      const e = error as { message: string; hint?: string };
      expect(`${e.message} ${e.hint}`).toMatch(pattern);
    }
  });
});
