/**
 * The GRPO surrogate loss and its per-token coefficients (docs/grpo.md), as TRL's GRPOTrainer computes it.
 *
 * Letters: B = sequences in the batch (all groups together, masked ones included), n_i = completion tokens
 * of sequence i, m_i = 0 when sequence i is masked (a completion cut at the token limit), else 1,
 * N = Σ_i m_i·n_i (tokens in the loss), L = maxCompletionLength.
 * Inputs per sequence i: logp_i,t (current policy), old_i,t (the policy that sampled; = logp detached when
 * μ = 1), ref_i,t (reference = the policy the run started from, frozen; needed only when β > 0), the
 * advantage A_i. All log-probs are at the sampling temperature (logits / T), as TRL computes them.
 *
 *   importance ratio, by `importanceSampling`:
 *     token:     ρ_i,t = exp(logp_i,t − old_i,t)                                       (GRPO / PPO)
 *     sequence:  ρ_i,t = s_i = exp((1/n_i) Σ_u (logp_i,u − old_i,u)) for every t        (GSPO)
 *   l_i,t = −min(ρ·A_i, clip(ρ, 1−ε_low, 1+ε_high)·A_i) + β·k3_i,t
 *   k3_i,t = exp(ref − logp) − (ref − logp) − 1                                        (≥ 0, the k3 KL estimator)
 *   Loss = Σ_i Σ_t w_i · l_i,t, with the aggregation weights of `lossType`:
 *     grpo:        w_i = m_i / (B · max(1, n_i))   (mean over a sequence's tokens, then over all B sequences)
 *     dr_grpo:     w_i = m_i / (B · L)             (Dr. GRPO: a constant normaliser)
 *     bnpo, dapo:  w_i = m_i / max(1, N)           (token mean over the batch; identical here, see below)
 *   c_i,t = ∂Loss/∂logp_i,t:
 *     token:     w_i · ( g(ρ_i,t) + β·(1 − exp(ref_i,t − logp_i,t)) )
 *     sequence:  w_i · ( g(s_i)   + β·(1 − exp(ref_i,t − logp_i,t)) )   — ∂s_i/∂logp_i,t = s_i / n_i, and the
 *                ratio term is repeated on n_i tokens, so the n_i cancel: the gradient is spread evenly
 *     g(ρ) = −ρ·A when the unclipped term is the min (ρ·A ≤ clip(ρ)·A), else 0 — the clip is active and its
 *     term is constant in logp. Inside the bounds both terms are equal and the gradient is −ρA.
 * TRL's bnpo divides by the tokens of the local batch, dapo by the tokens of the whole generation batch
 * (across processes and gradient-accumulation steps); one step here is one batch, so the two coincide.
 *
 * Multi-turn episodes (docs/grpo.md "Multi-turn episodes"): an episode is several sequences (one per model turn)
 * that share one advantage; `episodes[i]` names sequence i's episode. Read "sequence" as "episode" above: B = the
 * number of episodes, n_e = the episode's tokens in the loss (all its turns), GSPO's s_e = exp(mean over those
 * tokens of logp − old); m_i stays per sequence (a turn cut at the limit leaves the loss alone). Without
 * `episodes` every sequence is its own episode — exactly the single-turn loss above.
 * `c` is what PolicyBackend.accumulateGradients takes.
 *
 * Completions sampled elsewhere (rollout servers, trainers/rollouts/): the sampler's numerics differ from the
 * trainer's (another build, an f16 KV cache, batching), so π_old — the trainer's own forward at the sampling θ — is
 * not the distribution the tokens came from. Truncated importance sampling corrects it, as TRL's vLLM
 * importance-sampling correction: with samp_i,t = the sampler's log-prob of the token,
 *   w^IS_i,t = min(exp(old_i,t − samp_i,t), C)         (C = samplingCap, default 2)
 * multiplies the policy term of l_i,t (not the KL term). Its gradient: token level w^IS_i,t·g(ρ_i,t); sequence level
 * the episode's mean w^IS times g(s_e), since every token's term depends on logp_i,t through s_e. Logged: its
 * mean/min/max, the share of tokens at the cap, and mean/max |old − samp|.
 *
 * Logged (over the N tokens in the loss): clip fraction = tokens whose ratio is clipped and binding
 * (ρ < 1−ε_low with A < 0, or ρ > 1+ε_high with A > 0); KL mean = mean of k3; ratio mean = mean of ρ.
 */
import { InputError } from "../../errors.js";

/** The default cap C of the sampling correction (TRL's vllm_importance_sampling_cap). */
export const DEFAULT_SAMPLING_CAP = 2;

export type LossType = "grpo" | "dr_grpo" | "dapo" | "bnpo";
export const LOSS_TYPES: readonly LossType[] = ["grpo", "dr_grpo", "dapo", "bnpo"];

export type ImportanceSampling = "token" | "sequence";
export const IMPORTANCE_SAMPLING_LEVELS: readonly ImportanceSampling[] = ["token", "sequence"];

export interface GrpoLossOptions {
  lossType: LossType;
  /** Lower clip ε. Default 0.2. */
  epsilonLow: number;
  /** Upper clip ε (DAPO "clip-higher" uses 0.28). Default 0.2. */
  epsilonHigh: number;
  /** KL coefficient; 0 disables the KL term (and ref log-probs are not needed). */
  beta: number;
  /** token (GRPO) or sequence (GSPO). Default "token". */
  importanceSampling?: ImportanceSampling;
  /** dr_grpo's constant length L; default the longest completion in the batch. */
  maxCompletionLength?: number;
  /** Cap C of the truncated importance-sampling correction (with samplingLogprobs). Default 2. */
  samplingCap?: number;
}

export interface GrpoLossInput {
  /** Current policy log-probs, [B][n_i]. */
  logprobs: readonly ArrayLike<number>[];
  /** Sampling policy's log-probs, [B][n_i]. */
  oldLogprobs: readonly ArrayLike<number>[];
  /** Reference log-probs, [B][n_i]; required when β > 0. */
  refLogprobs?: readonly ArrayLike<number>[];
  /** A_i, [B]. */
  advantages: readonly number[];
  /** true = sequence i gets no loss and leaves the token count N (a truncated completion), [B]. Default none. */
  masked?: readonly boolean[];
  /**
   * The episode of each sequence, [B]: integers 0…E−1, every one used (multi-turn: an episode's turns share its
   * advantage and its normaliser). Default: sequence i is episode i.
   */
  episodes?: readonly number[];
  /** The sampler's log-probs of the tokens, [B][n_i], when another engine sampled them: the IS correction. */
  samplingLogprobs?: readonly ArrayLike<number>[];
}

/** The sampler/trainer mismatch over the tokens in the loss (only with samplingLogprobs). */
export interface SamplingCorrectionStats {
  ratioMean: number;
  ratioMin: number;
  ratioMax: number;
  /** Share of tokens whose ratio was cut to the cap. */
  cappedFraction: number;
  /** Mean and max of |old − samp| (nats). */
  logpDiffMean: number;
  logpDiffMax: number;
}

export interface GrpoLossResult {
  loss: number;
  /** ∂Loss/∂logp, [B][n_i] (all 0 on masked sequences). */
  coefficients: Float32Array[];
  clipFraction: number;
  /** Token mean of k3 over the tokens in the loss (0 when no reference is given). */
  klMean: number;
  /** Token mean of ρ over the tokens in the loss. */
  ratioMean: number;
  /** N: tokens in the loss. */
  tokens: number;
  /** With samplingLogprobs: the correction's ratios and the log-prob gap it corrects. */
  sampling?: SamplingCorrectionStats;
}

function checkInput(input: GrpoLossInput, options: GrpoLossOptions): void {
  const B = input.logprobs.length;
  if (
    input.oldLogprobs.length !== B ||
    input.advantages.length !== B ||
    (input.refLogprobs !== undefined && input.refLogprobs.length !== B) ||
    (input.masked !== undefined && input.masked.length !== B) ||
    (input.episodes !== undefined && input.episodes.length !== B) ||
    (input.samplingLogprobs !== undefined && input.samplingLogprobs.length !== B)
  ) {
    throw new InputError(
      `grpoLoss: batch sizes differ (logprobs ${B}, old ${input.oldLogprobs.length}, advantages ${input.advantages.length}, ref ${input.refLogprobs?.length ?? "none"}, masked ${input.masked?.length ?? "none"})`,
      { hint: "pass one entry per sequence in every array" },
    );
  }
  if (options.beta > 0 && input.refLogprobs === undefined) {
    throw new InputError(`grpoLoss: beta = ${options.beta} needs reference log-probs`, {
      hint: "compute policy.logprobs(batch, { reference: true }) or set beta to 0",
    });
  }
  const cap = options.samplingCap ?? DEFAULT_SAMPLING_CAP;
  if (!(cap >= 1))
    throw new InputError(`grpoLoss: samplingCap = ${cap} must be ≥ 1`, {
      hint: "the correction caps π_old/π_sampler from above; TRL's default is 2",
    });
  if (input.episodes !== undefined) {
    const E = new Set(input.episodes).size;
    if (!input.episodes.every((e) => Number.isInteger(e) && e >= 0 && e < E))
      throw new InputError(`grpoLoss: episodes must number ${E} episodes 0…${E - 1}`, {
        hint: "give each sequence the index of its episode; every index from 0 to E − 1 used",
      });
  }
  input.logprobs.forEach((lp, i) => {
    const old = input.oldLogprobs[i]!;
    const ref = input.refLogprobs?.[i];
    const samp = input.samplingLogprobs?.[i];
    if (
      old.length !== lp.length ||
      (ref !== undefined && ref.length !== lp.length) ||
      (samp !== undefined && samp.length !== lp.length)
    ) {
      throw new InputError(
        `grpoLoss: sequence ${i} has ${lp.length} log-probs but ${old.length} old / ${ref?.length ?? "-"} reference / ${samp?.length ?? "-"} sampler`,
        { hint: "all log-prob arrays must cover the same completion tokens" },
      );
    }
  });
}

/** The aggregation weight w_i of every sequence, [B]; `episodeOf[i]` its episode, E of them. */
function aggregationWeights(
  lengths: readonly number[],
  inLoss: readonly boolean[],
  episodeOf: readonly number[],
  lossType: LossType,
  maxCompletionLength: number,
): number[] {
  const E = Math.max(0, ...episodeOf) + 1;
  const episodeTokens = new Array<number>(E).fill(0); // n_e
  lengths.forEach((n, i) => {
    if (inLoss[i]) episodeTokens[episodeOf[i]!]! += n;
  });
  const N = episodeTokens.reduce((a, n) => a + n, 0);
  return lengths.map((_, i) => {
    if (!inLoss[i]) return 0;
    if (lossType === "grpo") return 1 / (E * Math.max(1, episodeTokens[episodeOf[i]!]!));
    if (lossType === "dr_grpo") return 1 / (E * maxCompletionLength);
    return 1 / Math.max(1, N);
  });
}

export function grpoLoss(input: GrpoLossInput, options: GrpoLossOptions): GrpoLossResult {
  checkInput(input, options);
  const B = input.logprobs.length;
  const level = options.importanceSampling ?? "token";
  const lengths = input.logprobs.map((l) => l.length);
  const inLoss = lengths.map((_, i) => input.masked?.[i] !== true);
  const maxLen = options.maxCompletionLength ?? Math.max(1, ...lengths);
  const episodeOf = input.episodes ?? lengths.map((_, i) => i);
  const weights = aggregationWeights(lengths, inLoss, episodeOf, options.lossType, maxLen);
  const low = 1 - options.epsilonLow;
  const high = 1 + options.epsilonHigh;

  const cap = options.samplingCap ?? DEFAULT_SAMPLING_CAP;
  const samplingWeight = (i: number, t: number): number =>
    Math.min(Math.exp(input.oldLogprobs[i]![t]! - input.samplingLogprobs![i]![t]!), cap);

  // s_e: an episode's ratio (GSPO), the geometric mean of its token ratios over its tokens in the loss; with the
  // sampling correction also the mean of its tokens' weights — ∂/∂logp_t of Σ_u w^IS_u·h(s_e) is h'(s_e)·s_e/n_e·Σ_u w^IS_u.
  const episodeLogRatio: number[] = [];
  const episodeSamplingWeight: number[] = [];
  if (level === "sequence") {
    const sums: number[] = [];
    const weightSums: number[] = [];
    const counts: number[] = [];
    input.logprobs.forEach((lp, i) => {
      const e = episodeOf[i]!;
      sums[e] ??= 0;
      weightSums[e] ??= 0;
      counts[e] ??= 0;
      if (!inLoss[i]) return;
      for (let t = 0; t < lp.length; t += 1) {
        sums[e] += lp[t]! - input.oldLogprobs[i]![t]!;
        if (input.samplingLogprobs) weightSums[e] += samplingWeight(i, t);
      }
      counts[e] += lp.length;
    });
    sums.forEach((sum, e) => {
      episodeLogRatio[e] = sum / Math.max(1, counts[e]!);
      episodeSamplingWeight[e] = weightSums[e]! / Math.max(1, counts[e]!);
    });
  }
  let loss = 0;
  let clipped = 0;
  let klSum = 0;
  let ratioSum = 0;
  let tokens = 0;
  const is = { sum: 0, min: Number.POSITIVE_INFINITY, max: 0, capped: 0, diffSum: 0, diffMax: 0 };
  const coefficients: Float32Array[] = [];
  for (let i = 0; i < B; i += 1) {
    const lp = input.logprobs[i]!;
    const old = input.oldLogprobs[i]!;
    const ref = input.refLogprobs?.[i];
    const samp = input.samplingLogprobs?.[i];
    const A = input.advantages[i]!;
    const w = weights[i]!;
    const n = lp.length;
    const c = new Float32Array(n);
    coefficients.push(c);
    if (!inLoss[i]) continue;
    const sequenceLogRatio = level === "sequence" ? episodeLogRatio[episodeOf[i]!]! : 0;
    for (let t = 0; t < n; t += 1) {
      const rho = Math.exp(level === "sequence" ? sequenceLogRatio : lp[t]! - old[t]!);
      const unclippedTerm = rho * A;
      const clippedTerm = Math.min(Math.max(rho, low), high) * A;
      let tokenLoss = -Math.min(unclippedTerm, clippedTerm);
      let grad = unclippedTerm <= clippedTerm ? -rho * A : 0;
      if (samp !== undefined) {
        const gap = old[t]! - samp[t]!;
        const raw = Math.exp(gap);
        const correction = Math.min(raw, cap);
        tokenLoss *= correction;
        grad *= level === "sequence" ? episodeSamplingWeight[episodeOf[i]!]! : correction;
        is.sum += correction;
        is.min = Math.min(is.min, correction);
        is.max = Math.max(is.max, correction);
        if (raw > cap) is.capped += 1;
        is.diffSum += Math.abs(gap);
        is.diffMax = Math.max(is.diffMax, Math.abs(gap));
      }
      if ((rho < low && A < 0) || (rho > high && A > 0)) clipped += 1;
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
      tokens += 1;
      loss += w * tokenLoss;
      c[t] = w * grad;
    }
  }
  const N = Math.max(1, tokens);
  return {
    loss,
    coefficients,
    clipFraction: clipped / N,
    klMean: klSum / N,
    ratioMean: ratioSum / N,
    tokens,
    ...(input.samplingLogprobs === undefined
      ? {}
      : {
          sampling: {
            ratioMean: is.sum / N,
            ratioMin: tokens > 0 ? is.min : 1,
            ratioMax: is.max,
            cappedFraction: is.capped / N,
            logpDiffMean: is.diffSum / N,
            logpDiffMax: is.diffMax,
          },
        }),
  };
}
