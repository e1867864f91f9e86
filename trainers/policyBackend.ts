/**
 * The subset of a trainable policy that the SFT and GRPO trainers need. The real implementation wraps
 * the native gradient extension (trainers/native/); unit tests use fakes.
 *
 * Letters: B = sequences in a batch, T_b = tokens of sequence b, C_b = its completion tokens.
 *
 * A loss is given by per-token coefficients: `accumulateGradients(batch, c)` adds ∇θ Σ_b Σ_t c[b][t]·log π_θ(y_t | y_<t)
 * to the gradient buffers. At the current θ that equals the gradient of any loss L(log π) with
 * c = ∂L/∂log π — so cross-entropy (c = −1/N) and the GRPO surrogate (clipped ratio, k3 KL) are both expressible.
 */
export interface TokenSequence {
  /** Prompt then completion token ids, [T_b]. */
  tokens: number[];
  /** Index in `tokens` of the first completion token; log-probs and the loss cover tokens[completionStart..]. */
  completionStart: number;
}

export interface StepOptions {
  /** Learning rate of this step (the trainer applies the schedule). */
  learningRate: number;
  /** Clip the global gradient L2 norm to this value before the update; 0 = no clipping. */
  maxGradNorm: number;
  /** AdamW decoupled weight decay. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * Coefficients computed from the log-probs of the same call: `accumulateGradients(batch, fn)` runs one forward,
 * hands its log-probs [B][C_b] to `fn` (detached: no gradient flows through them), then runs the backward of
 * Σ fn(log π)·log π on the same graph — one forward and one backward instead of a `logprobs` call and an
 * `accumulateGradients` call. `fn` returns one Float32Array per sequence, [B][C_b].
 */
export type CoefficientFunction = (logprobs: Float32Array[]) => Float32Array[];

export interface PolicyBackend {
  /** What is trained: the LoRA A/B matrices, or every weight (the tiny demo model). */
  readonly trainable: "lora" | "all";
  /**
   * log π(y_t | y_<t) of every completion token, [B][C_b]. `reference: true` evaluates the reference policy
   * of GRPO's KL: the policy as it was loaded, frozen (base + the starting adapter `lora.initPath`; base alone
   * for a fresh LoRA, whose B = 0). `temperature` T: log softmax(logits / T), as sampled (default 1).
   */
  logprobs(batch: TokenSequence[], options?: { reference?: boolean; temperature?: number }): Promise<Float32Array[]>;
  /**
   * Forward + backward of Σ c·log π (π at `temperature`, default 1); adds into the gradient buffers.
   * `coefficients` are c, [B][C_b], or a CoefficientFunction computing c from this forward's log-probs.
   * Returns Σ c·log π and the log-probs, [B][C_b].
   */
  accumulateGradients(
    batch: TokenSequence[],
    coefficients: Float32Array[] | CoefficientFunction,
    options?: { temperature?: number },
  ): Promise<{ objective: number; logprobs: Float32Array[] }>;
  /** Clips, applies AdamW to the accumulated gradients, zeroes them. Returns the pre-clip gradient norm. */
  step(options: StepOptions): Promise<{ gradNorm: number }>;
  /** Writes the LoRA adapter (or, for `all`, the full model) as GGUF that node-llama-cpp loads — atomically. */
  saveWeights(path: string): Promise<void>;
  /** Writes/reads trainable weights + AdamW moments + step count, atomically. */
  saveCheckpoint(path: string): Promise<void>;
  loadCheckpoint(path: string): Promise<void>;
  dispose(): Promise<void>;
  /**
   * Where the graphs run ("CPU", "Vulkan0 (llvmpipe …)", "CUDA0 (NVIDIA H200)") and the share of the last
   * graph's nodes the scheduler put there (null before the first call). Optional: fakes have no device.
   */
  deviceInfo?(): { device: string; nodeShare: number | null };
}

/**
 * Wraps a metrics logger so that every line carries the policy's `device` and `device_node_share` (when the
 * policy reports a device).
 *
 * @example
 * const log = withDeviceMetrics(openMetricsLog(path, resumedFrom), policy);
 */
export function withDeviceMetrics(
  log: (record: Record<string, unknown>) => void,
  policy: Pick<PolicyBackend, "deviceInfo">,
): (record: Record<string, unknown>) => void {
  return (record) => {
    const info = policy.deviceInfo?.();
    log(info ? { ...record, device: info.device, device_node_share: info.nodeShare } : record);
  };
}
