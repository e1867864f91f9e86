import { describe, expect, it } from "@jest/globals";
import { grpoLoss, type GrpoLossInput, type GrpoLossOptions, type LossType } from "./grpoLoss.js";

// Two sequences of different lengths, ratios inside and outside the clip range, both advantage signs.
const input: GrpoLossInput = {
  logprobs: [
    [-1.0, -0.5, -2.0],
    [-0.3, -1.2],
  ],
  oldLogprobs: [
    [-1.0, -0.8, -1.5],
    [-0.1, -1.2],
  ],
  refLogprobs: [
    [-1.1, -0.6, -1.9],
    [-0.2, -1.0],
  ],
  advantages: [1.5, -0.7],
};
const base: GrpoLossOptions = { lossType: "grpo", epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0.04 };

/** A straightforward re-statement of the per-token loss for the hand computation. */
function tokenLoss(lp: number, old: number, ref: number, A: number, o: GrpoLossOptions): number {
  const rho = Math.exp(lp - old);
  const clip = Math.min(Math.max(rho, 1 - o.epsilonLow), 1 + o.epsilonHigh);
  const d = ref - lp;
  return -Math.min(rho * A, clip * A) + o.beta * (Math.exp(d) - d - 1);
}

describe("grpoLoss", () => {
  it("is 0 with zero coefficients when policy = old = ref and A = 0", () => {
    const r = grpoLoss(
      { logprobs: [[-1, -2]], oldLogprobs: [[-1, -2]], refLogprobs: [[-1, -2]], advantages: [0] },
      base,
    );
    expect(r.loss).toBe(0);
    expect(Array.from(r.coefficients[0]!)).toEqual([0, 0]);
    expect(r.klMean).toBe(0);
  });

  it("with ρ = 1 and β = 0 gives c = −A·w (the policy-gradient coefficient)", () => {
    const r = grpoLoss(
      { logprobs: [[-1, -2, -3], [-1]], oldLogprobs: [[-1, -2, -3], [-1]], advantages: [2, -1] },
      { ...base, beta: 0 },
    );
    // grpo: w = 1/(B·C_i) = 1/6 for sequence 0, 1/2 for sequence 1.
    expect(r.coefficients[0]![0]).toBeCloseTo(-2 / 6, 7);
    expect(r.coefficients[1]![0]).toBeCloseTo(1 / 2, 7);
    expect(r.loss).toBeCloseTo(-(2 * 3) / 6 + 1 / 2, 7);
  });

  it.each<[LossType, (i: number, len: number) => number]>([
    ["grpo", (_i, len) => 1 / (2 * len)],
    ["dr_grpo", () => 1 / (2 * 3)],
    ["dapo", () => 1 / 5],
  ])("%s aggregates the per-token losses with its weights (hand values)", (lossType, w) => {
    const o = { ...base, lossType };
    let expected = 0;
    input.logprobs.forEach((lp, i) => {
      for (let t = 0; t < lp.length; t += 1) {
        expected +=
          w(i, lp.length) *
          tokenLoss(lp[t]!, input.oldLogprobs[i]![t]!, input.refLogprobs![i]![t]!, input.advantages[i]!, o);
      }
    });
    expect(grpoLoss(input, o).loss).toBeCloseTo(expected, 10);
  });

  it("hand-computes one clipped token: ρ = e^0.3 > 1.2 with A > 0 → no ratio gradient, only KL", () => {
    const o = { ...base, lossType: "dapo" as const };
    const r = grpoLoss(input, o);
    // sequence 0, token 1: lp −0.5, old −0.8 → ρ = 1.3499 > 1.2 and A = 1.5 > 0 → clipped.
    const d = -0.6 - -0.5;
    expect(r.coefficients[0]![1]).toBeCloseTo((1 / 5) * 0.04 * (1 - Math.exp(d)), 7);
    // clipped tokens: (0,1) ρ=1.35 A>0; (1,0) ρ=e^-0.2=0.8187 ≥ 0.8 → not clipped. 1 of 5.
    expect(r.clipFraction).toBeCloseTo(1 / 5, 10);
  });

  it.each<LossType>(["grpo", "dr_grpo", "dapo"])(
    "%s coefficients equal finite differences of the loss w.r.t. logp",
    (lossType) => {
      for (const beta of [0, 0.04]) {
        const o = { ...base, lossType, beta, maxCompletionLength: 4 };
        const r = grpoLoss(input, o);
        const h = 1e-6;
        input.logprobs.forEach((lp, i) => {
          for (let t = 0; t < lp.length; t += 1) {
            const shifted = (delta: number) =>
              grpoLoss(
                {
                  ...input,
                  logprobs: input.logprobs.map((s, j) =>
                    j === i ? Array.from(s, (v, u) => (u === t ? v + delta : v)) : s,
                  ),
                },
                o,
              ).loss;
            const numeric = (shifted(h) - shifted(-h)) / (2 * h);
            expect(r.coefficients[i]![t]).toBeCloseTo(numeric, 5);
          }
        });
      }
    },
  );

  it("reports the k3 KL token mean", () => {
    const r = grpoLoss(input, base);
    let sum = 0;
    input.logprobs.forEach((lp, i) => {
      Array.from(lp).forEach((v, t) => {
        const d = input.refLogprobs![i]![t]! - v;
        sum += Math.exp(d) - d - 1;
      });
    });
    expect(r.klMean).toBeCloseTo(sum / 5, 12);
    expect(r.klMean).toBeGreaterThan(0);
  });

  it("refuses β > 0 without reference log-probs, with a hint", () => {
    expect(() => grpoLoss({ ...input, refLogprobs: undefined }, base)).toThrow(/reference log-probs/);
  });
});
