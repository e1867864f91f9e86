/**
 * The GRPO surrogate loss and its per-token coefficients (docs/grpo.md).
 *
 * Letters: B = sequences in the batch (all groups together), C_i = completion tokens of sequence i.
 * Inputs per sequence i: logp_i,t (current policy), old_i,t (policy that sampled; = logp when μ = 1),
 * ref_i,t (reference = LoRA off; needed only when β > 0), the advantage A_i. All log-probs are at the
 * sampling temperature (logits / T), as TRL computes them.
 *
 *   ρ_t   = exp(logp_t − old_t)
 *   l_t   = −min(ρ_t·A, clip(ρ_t, 1−ε_low, 1+ε_high)·A) + β·k3_t
 *   k3_t  = exp(ref_t − logp_t) − (ref_t − logp_t) − 1                 (≥ 0, the k3 KL estimator)
 *   L     = Σ_i Σ_t w_i,t · l_i,t, with the aggregation weights of `lossType`:
 *             grpo:    w = 1 / (B · C_i)           (mean over a sequence's tokens, then over sequences)
 *             dr_grpo: w = 1 / (B · maxLen)        (maxLen = max completion length, a constant)
 *             dapo:    w = 1 / Σ_i C_i            (token mean over the whole batch)
 *   c_i,t = ∂L/∂logp_i,t = w_i,t · ( −ρ_t·A·[unclipped term is the min] + β·(1 − exp(ref_t − logp_t)) )
 * The clipped term has zero gradient where the clip is active; where ρ lies inside the bounds both terms
 * are equal and the gradient is −ρA. `c` is what PolicyBackend.accumulateGradients takes.
 *
 * Logged: clip fraction = tokens where the clip is active and binding (ρ < 1−ε_low with A < 0, or
 * ρ > 1+ε_high with A > 0) / all tokens; KL mean = token mean of k3.
 */
import { InputError } from "../errors.js";

export type LossType = "grpo" | "dr_grpo" | "dapo";

export interface GrpoLossOptions {
  lossType: LossType;
  /** Lower clip ε. Default 0.2. */
  epsilonLow: number;
  /** Upper clip ε (DAPO "clip-higher" uses 0.28). Default 0.2. */
  epsilonHigh: number;
  /** KL coefficient; 0 disables the KL term (and ref log-probs are not needed). */
  beta: number;
  /** dr_grpo's constant length; default the longest completion in the batch. */
  maxCompletionLength?: number;
}

export interface GrpoLossInput {
  /** Current policy log-probs, [B][C_i]. */
  logprobs: readonly ArrayLike<number>[];
  /** Sampling policy's log-probs, [B][C_i]. */
  oldLogprobs: readonly ArrayLike<number>[];
  /** Reference log-probs, [B][C_i]; required when β > 0. */
  refLogprobs?: readonly ArrayLike<number>[];
  /** A_i, [B]. */
  advantages: readonly number[];
}

export interface GrpoLossResult {
  loss: number;
  /** ∂L/∂logp, [B][C_i]. */
  coefficients: Float32Array[];
  clipFraction: number;
  /** Token mean of k3 (0 when β = 0 and no ref given). */
  klMean: number;
  /** Token mean of ρ. */
  ratioMean: number;
}

export function grpoLoss(input: GrpoLossInput, options: GrpoLossOptions): GrpoLossResult {
  const B = input.logprobs.length;
  if (
    input.oldLogprobs.length !== B ||
    input.advantages.length !== B ||
    (input.refLogprobs !== undefined && input.refLogprobs.length !== B)
  ) {
    throw new InputError(
      `grpoLoss: batch sizes differ (logprobs ${B}, old ${input.oldLogprobs.length}, advantages ${input.advantages.length}, ref ${input.refLogprobs?.length ?? "none"})`,
      { hint: "pass one entry per sequence in every array" },
    );
  }
  if (options.beta > 0 && input.refLogprobs === undefined) {
    throw new InputError(`grpoLoss: beta = ${options.beta} needs reference log-probs`, {
      hint: "compute policy.logprobs(batch, { reference: true }) or set beta to 0",
    });
  }
  const lengths = input.logprobs.map((l) => l.length);
  const totalTokens = lengths.reduce((a, b) => a + b, 0);
  const maxLen = options.maxCompletionLength ?? Math.max(1, ...lengths);
  const weight = (i: number): number => {
    if (options.lossType === "grpo") return lengths[i]! === 0 ? 0 : 1 / (B * lengths[i]!);
    if (options.lossType === "dr_grpo") return 1 / (B * maxLen);
    return totalTokens === 0 ? 0 : 1 / totalTokens;
  };
  let loss = 0;
  let clipped = 0;
  let klSum = 0;
  let ratioSum = 0;
  const coefficients: Float32Array[] = [];
  for (let i = 0; i < B; i += 1) {
    const lp = input.logprobs[i]!;
    const old = input.oldLogprobs[i]!;
    const ref = input.refLogprobs?.[i];
    const A = input.advantages[i]!;
    const w = weight(i);
    if (old.length !== lp.length || (ref !== undefined && ref.length !== lp.length)) {
      throw new InputError(
        `grpoLoss: sequence ${i} has ${lp.length} log-probs but ${old.length} old / ${ref?.length ?? "-"} reference`,
        { hint: "all log-prob arrays must cover the same completion tokens" },
      );
    }
    const c = new Float32Array(lp.length);
    for (let t = 0; t < lp.length; t += 1) {
      const rho = Math.exp(lp[t]! - old[t]!);
      const clippedRho = Math.min(Math.max(rho, 1 - options.epsilonLow), 1 + options.epsilonHigh);
      const unclippedTerm = rho * A;
      const clippedTerm = clippedRho * A;
      let tokenLoss = -Math.min(unclippedTerm, clippedTerm);
      let grad = unclippedTerm <= clippedTerm ? -rho * A : 0;
      if ((rho < 1 - options.epsilonLow && A < 0) || (rho > 1 + options.epsilonHigh && A > 0)) clipped += 1;
      if (ref !== undefined) {
        const d = ref[t]! - lp[t]!;
        const k3 = Math.exp(d) - d - 1;
        klSum += k3;
        if (options.beta > 0) {
          tokenLoss += options.beta * k3;
          grad += options.beta * (1 - Math.exp(d));
        }
      }
      ratioSum += rho;
      loss += w * tokenLoss;
      c[t] = w * grad;
    }
    coefficients.push(c);
  }
  const n = Math.max(1, totalTokens);
  return { loss, coefficients, clipFraction: clipped / n, klMean: klSum / n, ratioMean: ratioSum / n };
}
