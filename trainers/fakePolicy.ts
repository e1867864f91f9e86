/**
 * A fake PolicyBackend for unit tests (nanochat's MockModel): a unigram softmax over V token ids,
 * log π(y) = θ_y/T − logsumexp(θ/T), ignoring context (T = temperature, default 1); the reference is the θ it was
 * created with, frozen (θ = 0, uniform, unless `initialTheta` is given — as a native policy started from an adapter). Gradients are
 * exact; `step` is plain gradient descent with the given learning rate (AdamW is the native
 * extension's business). Checkpoints hold θ and the step count as JSON.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { CoefficientFunction, PolicyBackend, StepOptions, TokenSequence } from "./policyBackend.js";

export class FakePolicy implements PolicyBackend {
  readonly trainable = "all" as const;
  theta: Float64Array;
  grad: Float64Array;
  steps = 0;
  /** Forward passes of accumulateGradients (one per call, with arrays or a CoefficientFunction alike). */
  forwardPasses = 0;
  saved: string[] = [];

  /** The reference policy: θ at creation, never updated. */
  readonly referenceTheta: Float64Array;

  constructor(
    readonly vocabulary: number,
    initialTheta?: ArrayLike<number>,
  ) {
    this.theta = initialTheta ? Float64Array.from(initialTheta) : new Float64Array(vocabulary);
    this.referenceTheta = this.theta.slice();
    this.grad = new Float64Array(vocabulary);
  }

  private logZ(theta: Float64Array): number {
    const max = Math.max(...theta);
    return max + Math.log(theta.reduce((a, t) => a + Math.exp(t - max), 0));
  }

  /** θ / T: the logits at temperature T. */
  private scaled(theta: Float64Array, temperature = 1): Float64Array {
    return temperature === 1 ? theta : theta.map((t) => t / temperature);
  }

  async logprobs(
    batch: TokenSequence[],
    options: { reference?: boolean; temperature?: number } = {},
  ): Promise<Float32Array[]> {
    const theta = this.scaled(options.reference ? this.referenceTheta : this.theta, options.temperature);
    const z = this.logZ(theta);
    return batch.map((s) => Float32Array.from(s.tokens.slice(s.completionStart), (y) => theta[y]! - z));
  }

  async accumulateGradients(
    batch: TokenSequence[],
    coefficientsOrFn: Float32Array[] | CoefficientFunction,
    options: { temperature?: number } = {},
  ): Promise<{ objective: number; logprobs: Float32Array[] }> {
    const temperature = options.temperature ?? 1;
    const logprobs = await this.logprobs(batch, { temperature });
    this.forwardPasses += 1;
    // A function sees copies: what it does to its argument cannot change the returned log-probs.
    const coefficients =
      typeof coefficientsOrFn === "function" ? coefficientsOrFn(logprobs.map((row) => row.slice())) : coefficientsOrFn;
    const theta = this.scaled(this.theta, temperature);
    const z = this.logZ(theta);
    const p = Array.from(theta, (t) => Math.exp(t - z));
    let objective = 0;
    batch.forEach((s, b) => {
      s.tokens.slice(s.completionStart).forEach((y, t) => {
        const c = coefficients[b]![t]!;
        objective += c * logprobs[b]![t]!;
        // ∂ log π(y)/∂θ_v = ([v = y] − p_v) / T
        for (let v = 0; v < this.vocabulary; v += 1) this.grad[v]! += (c * ((v === y ? 1 : 0) - p[v]!)) / temperature;
      });
    });
    return { objective, logprobs };
  }

  async step(options: StepOptions): Promise<{ gradNorm: number }> {
    const gradNorm = Math.sqrt(this.grad.reduce((a, g) => a + g * g, 0));
    const scale = options.maxGradNorm > 0 && gradNorm > options.maxGradNorm ? options.maxGradNorm / gradNorm : 1;
    for (let v = 0; v < this.vocabulary; v += 1) this.theta[v]! -= options.learningRate * scale * this.grad[v]!;
    this.grad.fill(0);
    this.steps += 1;
    return { gradNorm };
  }

  async saveWeights(path: string): Promise<void> {
    this.saved.push(path);
    await this.saveCheckpoint(path);
  }

  async saveCheckpoint(path: string): Promise<void> {
    writeFileSync(`${path}.tmp`, JSON.stringify({ theta: Array.from(this.theta), steps: this.steps }));
    renameSync(`${path}.tmp`, path);
  }

  async loadCheckpoint(path: string): Promise<void> {
    const saved = JSON.parse(readFileSync(path, "utf8")) as { theta: number[]; steps: number };
    this.theta = Float64Array.from(saved.theta);
    this.steps = saved.steps;
  }

  async dispose(): Promise<void> {}
}
