/**
 * The two checks every device and weight type of the native extension must pass (docs/native.md, "Checks"):
 *   - gradients vs central finite differences of the same function (`gradientError`), and
 *   - log-probs vs node-llama-cpp's on the same GGUF (+ adapter) with an f32 KV cache (`llamaLogprobs`).
 * Used by the model tests (CPU and Vulkan) and by bench/deviceCheck.ts (CUDA, Vulkan, CPU).
 *
 * @example
 * const batch = sampleBatch(7, vocab);
 * const c = sampleCoefficients(batch);
 * await policy.accumulateGradients(batch, c);
 * const worst = await gradientError(policy, "blk.0.attn_q.weight.lora_a", batch, c); // rel-L2, ≤ 1e-2 expected
 */
import { mulberry32 } from "../../runtime/mulberry32.js";
import { loadModel } from "../../models/loadModel.js";
import type { GpuChoice } from "../../models/llamaRuntime.js";
import type { NativePolicy } from "../nativePolicy.js";
import type { TokenSequence } from "../policyBackend.js";

/** A deterministic batch of sequences [length, completionStart] (default: 9 tokens from 4, 6 tokens from 2). */
export function sampleBatch(
  seed: number,
  vocab: number,
  shapes: [number, number][] = [
    [9, 4],
    [6, 2],
  ],
): TokenSequence[] {
  const random = mulberry32(seed);
  return shapes.map(([length, completionStart]) => ({
    tokens: Array.from({ length }, () => Math.floor(random() * vocab)),
    completionStart,
  }));
}

/** Coefficients of mixed sign and size: −1 + 0.1·t for the first sequence, 0.7 + 0.1·t for the others. */
export function sampleCoefficients(batch: TokenSequence[]): Float32Array[] {
  return batch.map((seq, b) =>
    Float32Array.from({ length: seq.tokens.length - seq.completionStart }, (_, i) => (b === 0 ? -1 : 0.7) + 0.1 * i),
  );
}

/** Deterministic non-zero LoRA B so that every A has a gradient (B = 0 at init makes ∂/∂A vanish). */
export function randomizeLoraB(policy: NativePolicy, scale: number): void {
  for (const name of policy.trainableNames().filter((n) => n.endsWith(".lora_b"))) {
    const t = policy.getTensor(name);
    for (let i = 0; i < t.length; i++) t[i] = scale * Math.sin(i * 12.9898 + name.length * 78.233);
    policy.setTensor(name, t);
  }
}

/** Σ c·log p at the current weights (no gradient). */
export async function objectiveOf(
  policy: NativePolicy,
  batch: TokenSequence[],
  c: Float32Array[],
  temperature = 1,
): Promise<number> {
  const lp = await policy.logprobs(batch, { temperature });
  return lp.reduce((sum, row, b) => sum + row.reduce((s, x, i) => s + x * c[b]![i]!, 0), 0);
}

/**
 * rel-L2 of the accumulated (analytic) gradient vs central differences, over the `k` entries of a tensor with
 * the largest analytic |gradient| (f32 central differences have ~1e-4 absolute noise; tiny entries would only
 * measure it). The policy's gradient must hold exactly one accumulateGradients(batch, c).
 */
export async function gradientError(
  policy: NativePolicy,
  name: string,
  batch: TokenSequence[],
  c: Float32Array[],
  k = 4,
  eps = 1e-2,
): Promise<number> {
  const grad = policy.getGrad(name);
  const weights = policy.getTensor(name);
  const order = Array.from(grad.keys())
    .sort((i, j) => Math.abs(grad[j]!) - Math.abs(grad[i]!))
    .slice(0, k);
  let num = 0;
  let den = 0;
  for (const i of order) {
    const original = weights[i]!;
    weights[i] = original + eps;
    policy.setTensor(name, weights);
    const plus = await objectiveOf(policy, batch, c);
    weights[i] = original - eps;
    policy.setTensor(name, weights);
    const minus = await objectiveOf(policy, batch, c);
    weights[i] = original;
    policy.setTensor(name, weights);
    const fd = (plus - minus) / (2 * eps);
    num += (grad[i]! - fd) ** 2;
    den += fd ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** The worst gradientError over `names`. */
export async function worstGradientError(
  policy: NativePolicy,
  names: string[],
  batch: TokenSequence[],
  c: Float32Array[],
  k = 4,
): Promise<number> {
  let worst = 0;
  for (const name of names) worst = Math.max(worst, await gradientError(policy, name, batch, c, k));
  return worst;
}

/** node-llama-cpp's log-probs of each sequence's completion (f32 KV cache, no flash attention), [B][C_b]. */
export async function llamaLogprobs(
  modelPath: string,
  batch: TokenSequence[],
  options: { adapter?: string; gpu?: GpuChoice } = {},
): Promise<number[][]> {
  const model = await loadModel({
    model: modelPath,
    gpu: options.gpu ?? "cpu",
    sequences: 1,
    contextSize: 128,
    kvCacheF32: true,
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });
  try {
    const out: number[][] = [];
    for (const { tokens, completionStart } of batch) {
      out.push(await model.logprobsOf(tokens.slice(0, completionStart), tokens.slice(completionStart)));
    }
    return out;
  } finally {
    await model.dispose();
  }
}

/** Worst ‖v − r‖ / ‖r‖ over the tensors of `reference` (by name; every one must be in `values`). */
export function worstRelativeL2(values: Map<string, Float32Array>, reference: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, r] of reference) {
    const v = values.get(name);
    if (!v || v.length !== r.length) return Infinity;
    worst = Math.max(worst, Math.hypot(...v.map((x, i) => x - r[i]!)) / Math.max(Math.hypot(...r), 1e-30));
  }
  return worst;
}

/** Mean |a − b| over every entry of two [B][C_b] arrays of equal shapes (Infinity when the shapes differ). */
export function meanAbsDelta(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let sum = 0;
  let n = 0;
  if (a.length !== b.length) return Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.length !== b[i]!.length) return Infinity;
    for (let j = 0; j < a[i]!.length; j++) {
      sum += Math.abs(a[i]![j]! - b[i]![j]!);
      n += 1;
    }
  }
  return n === 0 ? 0 : sum / n;
}
