/**
 * grpoLoss against an independent reference: TRL's `_compute_loss` re-stated line by line on a padded
 * [B, T_max] matrix with a completion mask (the GRPO, Dr. GRPO, DAPO and GSPO papers' formulas as TRL writes
 * them), evaluated on dual numbers (forward-mode autodiff), so the reference's per-token derivatives are exact
 * and owe nothing to grpoLoss's hand-derived coefficients. The coefficients are also checked against central
 * finite differences of grpoLoss's own loss.
 */
import { describe, expect, it } from "@jest/globals";
import {
  grpoLoss,
  IMPORTANCE_SAMPLING_LEVELS,
  LOSS_TYPES,
  type GrpoLossInput,
  type GrpoLossOptions,
  type ImportanceSampling,
  type LossType,
} from "./grpoLoss.js";

// ─── the reference: dual numbers and TRL's loss ─────────────────────────────────────────────────────

/** a + b·ε with ε² = 0: `d` is the derivative along one seeded input. */
class Dual {
  constructor(
    readonly v: number,
    readonly d = 0,
  ) {}
  add(o: Dual | number): Dual {
    const b = typeof o === "number" ? new Dual(o) : o;
    return new Dual(this.v + b.v, this.d + b.d);
  }
  sub(o: Dual | number): Dual {
    const b = typeof o === "number" ? new Dual(o) : o;
    return new Dual(this.v - b.v, this.d - b.d);
  }
  mul(o: Dual | number): Dual {
    const b = typeof o === "number" ? new Dual(o) : o;
    return new Dual(this.v * b.v, this.d * b.v + this.v * b.d);
  }
  div(k: number): Dual {
    return new Dual(this.v / k, this.d / k);
  }
  exp(): Dual {
    const e = Math.exp(this.v);
    return new Dual(e, e * this.d);
  }
  neg(): Dual {
    return new Dual(-this.v, -this.d);
  }
}
/** torch.clamp: the gradient passes inside [lo, hi], is 0 outside. */
const clamp = (x: Dual, lo: number, hi: number): Dual => (x.v < lo ? new Dual(lo) : x.v > hi ? new Dual(hi) : x);
/** torch.min of two tensors (the fixtures avoid ties with different derivatives). */
const min = (a: Dual, b: Dual): Dual => (a.v <= b.v ? a : b);

/**
 * TRL GRPOTrainer._compute_loss, one scalar at a time:
 *   log_ratio = logp − old;  token: w = log_ratio;  sequence: w = Σ(log_ratio·mask)/clamp(Σ mask, 1)
 *   coef_1 = exp(w); coef_2 = clamp(coef_1, 1 − ε_low, 1 + ε_high)
 *   per_token_loss = −min(coef_1·A, coef_2·A) + β·(exp(ref − logp) − (ref − logp) − 1)
 *   grpo:    mean_i( Σ_t loss·mask / clamp(Σ_t mask, 1) )
 *   bnpo:    Σ loss·mask / clamp(Σ mask, 1);  dapo: Σ loss·mask / num_items_in_batch (= Σ mask here)
 *   dr_grpo: Σ loss·mask / (B · max_completion_length)
 * `seed` = [i, t]: the input whose derivative the duals carry.
 */
function referenceLoss(input: GrpoLossInput, o: GrpoLossOptions, seed: [number, number] | null): Dual {
  const B = input.logprobs.length;
  const T = Math.max(...input.logprobs.map((l) => l.length));
  const level = o.importanceSampling ?? "token";
  const at = (rows: readonly ArrayLike<number>[] | undefined, i: number, t: number) => rows?.[i]?.[t] ?? 0;
  // The padded matrices, as TRL holds them: [B, T] with mask 0 on padding and on masked (truncated) rows.
  const logp: Dual[][] = [];
  const mask: number[][] = [];
  for (let i = 0; i < B; i += 1) {
    logp.push([]);
    mask.push([]);
    for (let t = 0; t < T; t += 1) {
      const isSeed = seed !== null && seed[0] === i && seed[1] === t;
      logp[i]!.push(new Dual(at(input.logprobs, i, t), isSeed ? 1 : 0));
      mask[i]!.push(t < input.logprobs[i]!.length && input.masked?.[i] !== true ? 1 : 0);
    }
  }
  const perTokenLoss: Dual[][] = logp.map((row, i) => {
    const logRatio = row.map((lp, t) => lp.sub(at(input.oldLogprobs, i, t)));
    const maskSum = Math.max(
      1,
      mask[i]!.reduce((a, b) => a + b, 0),
    );
    const sequenceWeight = logRatio.reduce((a, r, t) => a.add(r.mul(mask[i]![t]!)), new Dual(0)).div(maskSum);
    const A = input.advantages[i]!;
    return row.map((lp, t) => {
      const coef1 = (level === "token" ? logRatio[t]! : sequenceWeight).exp();
      const coef2 = clamp(coef1, 1 - o.epsilonLow, 1 + o.epsilonHigh);
      let l = min(coef1.mul(A), coef2.mul(A)).neg();
      // TRL's vLLM importance-sampling correction: per_token_loss *= min(exp(old − sampling), cap), before the KL.
      if (input.samplingLogprobs)
        l = l.mul(
          Math.min(Math.exp(at(input.oldLogprobs, i, t) - at(input.samplingLogprobs, i, t)), o.samplingCap ?? 2),
        );
      if (o.beta !== 0) {
        const d = new Dual(at(input.refLogprobs, i, t)).sub(lp);
        l = l.add(d.exp().sub(d).sub(1).mul(o.beta));
      }
      return l;
    });
  });
  const masked = (i: number) => perTokenLoss[i]!.reduce((a, l, t) => a.add(l.mul(mask[i]![t]!)), new Dual(0));
  const totalMask = mask.flat().reduce((a, b) => a + b, 0);
  if (o.lossType === "grpo") {
    let sum = new Dual(0);
    for (let i = 0; i < B; i += 1)
      sum = sum.add(
        masked(i).div(
          Math.max(
            1,
            mask[i]!.reduce((a, b) => a + b, 0),
          ),
        ),
      );
    return sum.div(B);
  }
  let all = new Dual(0);
  for (let i = 0; i < B; i += 1) all = all.add(masked(i));
  if (o.lossType === "dr_grpo") return all.div(B * o.maxCompletionLength!);
  return all.div(Math.max(1, totalMask)); // bnpo; dapo with num_items_in_batch = the batch's tokens
}

// ─── fixtures ───────────────────────────────────────────────────────────────────────────────────────

const ln = Math.log;
const EPS = { epsilonLow: 0.2, epsilonHigh: 0.28 }; // asymmetric (clip-higher): 1.25 is inside, 0.75 outside

/**
 * Token level: every clip region on both sides of 1, for A > 0, A < 0 and A = 0. Ratios (old = logp − ln ρ):
 * 0.5 (below 1−ε_low), 0.9 and 1.1 (inside, either side of 1), 1.25 (inside only because ε_high = 0.28),
 * 1.5 (above 1+ε_high). One sequence is masked (truncated): it must contribute nothing.
 */
const RATIOS = [0.5, 0.9, 1.1, 1.25, 1.5];
const tokenFixture: GrpoLossInput = (() => {
  const advantages = [1.3, -0.7, 0, 0.9, -1.6];
  const logprobs = [
    [-0.4, -1.1, -2.3, -0.2, -0.9], // A > 0, every region
    [-0.7, -0.3, -1.9, -1.2, -0.5], // A < 0, every region
    [-1.0, -0.6], // A = 0: only KL
    [-0.8, -1.4, -0.35], // A > 0, masked: a truncated completion
    [-0.25, -2.0, -0.6, -1.5], // A < 0, ratios 1.5, 0.5, 1.1, 0.9
  ];
  const ratioOf = [RATIOS, RATIOS, [1.1, 0.9], [1.5, 0.5, 1.1], [1.5, 0.5, 1.1, 0.9]];
  const oldLogprobs = logprobs.map((row, i) => row.map((lp, t) => lp - ln(ratioOf[i]![t]!)));
  const refLogprobs = logprobs.map((row) => row.map((lp, t) => lp + 0.15 * Math.sin(3 * t + lp)));
  return { logprobs, oldLogprobs, refLogprobs, advantages, masked: [false, false, false, true, false] };
})();

/**
 * Sequence level: sequences whose geometric-mean ratio s_i lies in each region (0.6, 0.95, 1.05, 1.25, 1.45),
 * with token ratios spread around it, for both signs of A; plus a masked one.
 */
const sequenceFixture: GrpoLossInput = (() => {
  const targets = [0.6, 0.95, 1.05, 1.25, 1.45, 0.6, 0.95, 1.05, 1.25, 1.45, 1.3];
  const advantages = [1.1, 1.1, 1.1, 1.1, 1.1, -0.8, -0.8, -0.8, -0.8, -0.8, 2];
  const logprobs = targets.map((_, i) => Array.from({ length: 2 + (i % 3) }, (_, t) => -0.3 - 0.4 * ((i + t) % 4)));
  const oldLogprobs = logprobs.map((row, i) => {
    const spread = row.map((_, t) => 0.1 * (t - (row.length - 1) / 2)); // Σ spread = 0: mean log-ratio = ln s_i
    return row.map((lp, t) => lp - ln(targets[i]!) - spread[t]!);
  });
  const refLogprobs = logprobs.map((row) => row.map((lp, t) => lp - 0.1 + 0.05 * t));
  const masked = targets.map((_, i) => i === targets.length - 1);
  return { logprobs, oldLogprobs, refLogprobs, advantages, masked };
})();

const FIXTURES: Record<ImportanceSampling, GrpoLossInput> = { token: tokenFixture, sequence: sequenceFixture };
const CASES: [LossType, ImportanceSampling, number][] = LOSS_TYPES.flatMap((lossType) =>
  IMPORTANCE_SAMPLING_LEVELS.flatMap((level) =>
    [0, 0.04].map((beta): [LossType, ImportanceSampling, number] => [lossType, level, beta]),
  ),
);
const optionsOf = (lossType: LossType, importanceSampling: ImportanceSampling, beta: number): GrpoLossOptions => ({
  lossType,
  importanceSampling,
  beta,
  ...EPS,
  maxCompletionLength: 6,
});

/** Every coefficient equals the central finite difference of grpoLoss's own loss in that log-prob. */
function expectFiniteDifferences(input: GrpoLossInput, o: GrpoLossOptions): void {
  const r = grpoLoss(input, o);
  const h = 1e-6;
  input.logprobs.forEach((row, i) => {
    for (let t = 0; t < row.length; t += 1) {
      const shifted = (delta: number) =>
        grpoLoss(
          {
            ...input,
            logprobs: input.logprobs.map((s, j) => (j === i ? Array.from(s, (v, u) => (u === t ? v + delta : v)) : s)),
          },
          o,
        ).loss;
      expect(r.coefficients[i]![t]!).toBeCloseTo((shifted(h) - shifted(-h)) / (2 * h), 6);
    }
  });
}

describe("grpoLoss against TRL's loss (independent reference, dual numbers)", () => {
  it("the fixtures reach every clip region on both sides of 1 with both signs of A", () => {
    const regions = new Set<string>();
    const note = (rho: number, A: number): void => {
      const side = rho < 1 - EPS.epsilonLow ? "below" : rho > 1 + EPS.epsilonHigh ? "above" : rho < 1 ? "in<1" : "in>1";
      regions.add(`${side}/${Math.sign(A)}`);
    };
    tokenFixture.logprobs.forEach((row, i) => {
      Array.from(row).forEach((lp, t) => {
        note(Math.exp(lp - tokenFixture.oldLogprobs[i]![t]!), tokenFixture.advantages[i]!);
      });
    });
    const tokenRegions = [...regions].sort();
    regions.clear();
    sequenceFixture.logprobs.forEach((row, i) => {
      const lr = Array.from(row).map((lp, t) => lp - sequenceFixture.oldLogprobs[i]![t]!);
      note(Math.exp(lr.reduce((a, b) => a + b, 0) / lr.length), sequenceFixture.advantages[i]!);
    });
    const all = ["above", "below", "in<1", "in>1"].flatMap((s) => [`${s}/1`, `${s}/-1`]).sort();
    expect(tokenRegions.filter((r) => !r.endsWith("/0"))).toEqual(all);
    expect([...regions].sort()).toEqual(all);
  });

  it.each(CASES)("%s, %s level, β = %s: loss and every coefficient equal the reference", (lossType, level, beta) => {
    const input = FIXTURES[level];
    const o = optionsOf(lossType, level, beta);
    const r = grpoLoss(input, o);
    expect(r.loss).toBeCloseTo(referenceLoss(input, o, null).v, 12);
    expect(r.loss).not.toBe(0);
    input.logprobs.forEach((row, i) => {
      for (let t = 0; t < row.length; t += 1) {
        // Float32 coefficients: compare to ~1e-7 relative.
        expect(r.coefficients[i]![t]!).toBeCloseTo(referenceLoss(input, o, [i, t]).d, 7);
      }
    });
  });

  it.each(CASES)(
    "%s, %s level, β = %s: coefficients equal central finite differences of the loss",
    (lossType, level, beta) => {
      expectFiniteDifferences(FIXTURES[level], optionsOf(lossType, level, beta));
    },
  );
});

describe("grpoLoss: masking, aggregation and logs", () => {
  it("a masked (truncated) sequence has zero coefficients and leaves the token count", () => {
    const o = optionsOf("dapo", "token", 0.04);
    const r = grpoLoss(tokenFixture, o);
    expect(Array.from(r.coefficients[3]!)).toEqual([0, 0, 0]);
    expect(r.tokens).toBe(5 + 5 + 2 + 4); // the masked sequence's 3 tokens are not counted
    // Dropping the masked sequence altogether gives the same dapo loss (its tokens are not in N).
    const keep = [0, 1, 2, 4];
    const without = grpoLoss(
      {
        logprobs: keep.map((i) => tokenFixture.logprobs[i]!),
        oldLogprobs: keep.map((i) => tokenFixture.oldLogprobs[i]!),
        refLogprobs: keep.map((i) => tokenFixture.refLogprobs![i]!),
        advantages: keep.map((i) => tokenFixture.advantages[i]!),
      },
      o,
    );
    expect(r.loss).toBeCloseTo(without.loss, 12);
    // grpo still divides by all B sequences, as TRL's .mean() over the batch does.
    const grpo = grpoLoss(tokenFixture, optionsOf("grpo", "token", 0.04));
    const grpoWithout = grpoLoss(
      {
        logprobs: keep.map((i) => tokenFixture.logprobs[i]!),
        oldLogprobs: keep.map((i) => tokenFixture.oldLogprobs[i]!),
        refLogprobs: keep.map((i) => tokenFixture.refLogprobs![i]!),
        advantages: keep.map((i) => tokenFixture.advantages[i]!),
      },
      optionsOf("grpo", "token", 0.04),
    );
    expect(grpo.loss).toBeCloseTo((grpoWithout.loss * 4) / 5, 12);
  });

  it("with ρ = 1 and β = 0 gives c = −A·w (the policy-gradient coefficient), at both levels", () => {
    for (const importanceSampling of IMPORTANCE_SAMPLING_LEVELS) {
      const r = grpoLoss(
        { logprobs: [[-1, -2, -3], [-1]], oldLogprobs: [[-1, -2, -3], [-1]], advantages: [2, -1] },
        { lossType: "grpo", epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0, importanceSampling },
      );
      // grpo: w = 1/(B·n_i) = 1/6 for sequence 0, 1/2 for sequence 1.
      expect(r.coefficients[0]![0]).toBeCloseTo(-2 / 6, 7);
      expect(r.coefficients[1]![0]).toBeCloseTo(1 / 2, 7);
      expect(r.loss).toBeCloseTo(-(2 * 3) / 6 + 1 / 2, 7);
      expect(r.clipFraction).toBe(0);
      expect(r.ratioMean).toBe(1);
    }
  });

  it("clip fraction counts the binding clips; KL mean is the k3 mean over the tokens in the loss", () => {
    const r = grpoLoss(tokenFixture, optionsOf("dapo", "token", 0.04));
    // Binding: A > 0 with ρ 1.5 (seq 0) ; A < 0 with ρ 0.5 (seq 1, seq 4). The masked sequence does not count.
    expect(r.clipFraction).toBeCloseTo(3 / 16, 12);
    let k3 = 0;
    for (const i of [0, 1, 2, 4]) {
      Array.from(tokenFixture.logprobs[i]!).forEach((lp, t) => {
        const d = tokenFixture.refLogprobs![i]![t]! - lp;
        k3 += Math.exp(d) - d - 1;
      });
    }
    expect(r.klMean).toBeCloseTo(k3 / 16, 12);
    expect(r.klMean).toBeGreaterThan(0);
  });

  it("refuses β > 0 without reference log-probs, and arrays of different sizes, with a hint", () => {
    expect(() => grpoLoss({ ...tokenFixture, refLogprobs: undefined }, optionsOf("grpo", "token", 0.04))).toThrow(
      /reference log-probs/,
    );
    expect(() => grpoLoss({ ...tokenFixture, masked: [true] }, optionsOf("grpo", "token", 0))).toThrow(/masked 1/);
  });
});

describe("grpoLoss: truncated importance sampling for completions sampled elsewhere", () => {
  // Sampler log-probs that put min(exp(old − samp), 2) at 0.5, 0.9, 1, 1.3 and the cap (3 → 2) across the tokens.
  const SAMPLER_RATIOS = [0.5, 0.9, 1, 1.3, 3];
  const withSampler = (input: GrpoLossInput): GrpoLossInput => ({
    ...input,
    samplingLogprobs: input.oldLogprobs.map((row, i) =>
      Array.from(row, (old, t) => old - ln(SAMPLER_RATIOS[(i + t) % SAMPLER_RATIOS.length]!)),
    ),
  });

  it.each(IMPORTANCE_SAMPLING_LEVELS.flatMap((level) => [0, 0.04].map((beta) => [level, beta] as const)))(
    "%s level, β = %s: loss and coefficients equal TRL's corrected loss, and central finite differences",
    (level, beta) => {
      const input = withSampler(FIXTURES[level]);
      const o = optionsOf("grpo", level, beta);
      const r = grpoLoss(input, o);
      expect(r.loss).toBeCloseTo(referenceLoss(input, o, null).v, 12);
      expect(r.loss).not.toBeCloseTo(grpoLoss(FIXTURES[level], o).loss, 3); // the correction changes it
      input.logprobs.forEach((row, i) => {
        for (let t = 0; t < row.length; t += 1)
          expect(r.coefficients[i]![t]!).toBeCloseTo(referenceLoss(input, o, [i, t]).d, 7);
      });
      expectFiniteDifferences(input, o);
    },
  );

  it("a sampler that agrees with π_old changes nothing; the logs say how far apart they were and what was capped", () => {
    const o = optionsOf("dapo", "token", 0.04);
    const plain = grpoLoss(tokenFixture, o);
    const agreeing = grpoLoss({ ...tokenFixture, samplingLogprobs: tokenFixture.oldLogprobs }, o);
    expect(agreeing.loss).toBe(plain.loss);
    expect(agreeing.coefficients).toEqual(plain.coefficients);
    expect(plain.sampling).toBeUndefined();
    expect(agreeing.sampling).toEqual({
      ratioMean: 1,
      ratioMin: 1,
      ratioMax: 1,
      cappedFraction: 0,
      logpDiffMean: 0,
      logpDiffMax: 0,
    });
    const corrected = grpoLoss(withSampler(tokenFixture), o);
    const s = corrected.sampling!;
    expect(s.ratioMin).toBeCloseTo(0.5, 12);
    expect(s.ratioMax).toBe(2); // 3 cut to the cap
    expect(s.cappedFraction).toBeGreaterThan(0);
    expect(s.logpDiffMax).toBeCloseTo(ln(3), 12);
    // The KL term is not corrected: with A = 0 (sequence 2) only the KL remains, so its coefficients are unchanged.
    expect(corrected.coefficients[2]).toEqual(plain.coefficients[2]);
    // A higher cap lets the ratio 3 through.
    expect(grpoLoss(withSampler(tokenFixture), { ...o, samplingCap: 4 }).sampling!.ratioMax).toBeCloseTo(3, 12);
  });

  it("a cap below 1 or sampler log-probs of the wrong length are InputErrors that say what to pass", () => {
    const o = optionsOf("grpo", "token", 0);
    expect(() => grpoLoss(withSampler(tokenFixture), { ...o, samplingCap: 0.5 })).toThrow(
      /samplingCap = 0.5 must be ≥ 1/,
    );
    const short = {
      ...tokenFixture,
      samplingLogprobs: tokenFixture.oldLogprobs.map((row) => Array.from(row).slice(1)),
    };
    expect(() => grpoLoss(short, o)).toThrow(/sequence 0 has 5 log-probs but 5 old \/ 5 reference \/ 4 sampler/);
  });
});
