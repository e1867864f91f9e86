import { describe, expect, it } from "@jest/globals";
import { DEFAULT_GRPO_CONFIG, resolveGrpoConfig } from "./grpoConfig.js";

describe("resolveGrpoConfig", () => {
  it("fills the documented defaults", () => {
    const c = resolveGrpoConfig({ maxSteps: 3 });
    expect(c).toEqual({ ...DEFAULT_GRPO_CONFIG, maxSteps: 3 });
    expect(c).toMatchObject({
      groupSize: 8,
      beta: 0.04,
      temperature: 1,
      lossType: "dapo",
      scaleRewards: "group",
      importanceSampling: "token",
      maskTruncatedCompletions: true,
      logCompletionsEvery: 10,
    });
  });

  it("allows β = 0 and every loss type, scale and importance-sampling level", () => {
    expect(resolveGrpoConfig({ beta: 0 }).beta).toBe(0);
    for (const lossType of ["grpo", "dr_grpo", "dapo", "bnpo"] as const)
      expect(resolveGrpoConfig({ lossType }).lossType).toBe(lossType);
    for (const scaleRewards of ["group", "batch", "none"] as const)
      expect(resolveGrpoConfig({ scaleRewards }).scaleRewards).toBe(scaleRewards);
    expect(resolveGrpoConfig({ importanceSampling: "sequence" }).importanceSampling).toBe("sequence");
  });

  it.each<[object, RegExp]>([
    [{ groupSize: 1 }, /groupSize.*at least two/],
    [{ lossType: "ppo" }, /lossType.*grpo, dr_grpo, dapo, bnpo/],
    [{ scaleRewards: "std" }, /scaleRewards.*group, batch, none/],
    [{ importanceSampling: "tokens" }, /importanceSampling.*token, sequence/],
    [{ maskTruncatedCompletions: "yes" }, /maskTruncatedCompletions.*true or false/],
    [{ logCompletionsEvery: -1 }, /logCompletionsEvery/],
    [{ beta: -1 }, /beta/],
    [{ temperature: 0 }, /temperature/],
    [{ learningRate: "1e-5" }, /learningRate/],
    [{ groupsize: 4 }, /unknown GRPO config field 'groupsize'/],
    [{ scaleRewardsByStd: false }, /no longer exists.*scaleRewards: "group" \(was true\) or "none"/],
    [{ topK: 40 }, /'topK' no longer exists.*softmax\(logits \/ T\)/],
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
