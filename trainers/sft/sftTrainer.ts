/**
 * Supervised fine-tuning through a PolicyBackend.
 *
 *   1. order     each epoch visits the examples in a permutation fixed by (seed, epoch) — so a resumed
 *                run sees exactly the order it would have seen (the RNG state is (seed, epoch, position))
 *   2. forward/backward  per micro-batch: c_t = −1 / N for every completion token, N = completion tokens
 *                of the whole accumulation window, so Σ c·log π = mean token cross-entropy; the prompt
 *                carries no loss
 *   3. update    after `gradientAccumulation` micro-batches: policy.step(AdamW, lr = warmup + cosine)
 *   4. log       metrics.jsonl: {step, epoch, loss, lr, gradNorm, tokens, tokensPerSecond} per step and
 *                {step, devLoss, …evaluator's metrics} every evalEvery steps
 *   5. checkpoint  every checkpointEvery steps and at the end: policy.saveCheckpoint(checkpoint/policy-<step>.ckpt)
 *                (atomic in the backend), then checkpoint/state.json {step, policy file} written temp + rename.
 *                The state names the policy file of its own step, so a kill at any point leaves a
 *                consistent pair; the previous policy file is removed only after the state moved on.
 * Resuming (`resume: true`, the default) continues from checkpoint/state.json when present.
 *
 * Letters: B = batchSize, N = completion tokens of one accumulation window.
 */
import { join } from "node:path";
import { learningRateAt } from "./learningRateSchedule.js";
import { withDeviceMetrics, type PolicyBackend, type TokenSequence } from "../policyBackend.js";
import type { TrainingProgressFactory } from "../trainingProgress.js";
import { checkpointFiles } from "../checkpointFiles.js";
import { openMetricsLog } from "../metricsLog.js";
import type { SftConfig } from "./sftConfig.js";

/** One training example as token ids (models/promptTemplates.ts `trainingTokens`). */
export interface SftExample {
  promptTokens: number[];
  /** Completion tokens including the final EOS. */
  completionTokens: number[];
}

export interface SftRunOptions {
  policy: PolicyBackend;
  train: readonly SftExample[];
  dev?: readonly SftExample[];
  config: SftConfig;
  /** Extra dev metrics (e.g. execution accuracy through a sampler) — called at each evaluation. */
  evaluate?: (step: number) => Promise<Record<string, number>>;
  /** Continue from outDir/checkpoint when present. Default true. */
  resume?: boolean;
  /** Progress of the steps (the CLI passes cli/progressBar.ts); absent = silent. */
  progress?: TrainingProgressFactory;
  /** Test hook: stop (as if killed) after this many optimizer steps of this process, without a final checkpoint. */
  stopAfterSteps?: number;
}

export interface SftResult {
  steps: number;
  finalLoss: number;
  devLoss: number | null;
  resumedFrom: number;
  metricsPath: string;
}

/** Deterministic permutation of 0..n−1 (mulberry32 + Fisher–Yates). */
export function permutation(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

const toSequence = (e: SftExample): TokenSequence => ({
  tokens: [...e.promptTokens, ...e.completionTokens],
  completionStart: e.promptTokens.length,
});

/** Mean token cross-entropy of examples under the policy (no gradient). */
export async function sftLoss(policy: PolicyBackend, examples: readonly SftExample[], batchSize = 16): Promise<number> {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    const lp = await policy.logprobs(examples.slice(i, i + batchSize).map(toSequence));
    for (const row of lp)
      for (const v of row) {
        sum -= v;
        n += 1;
      }
  }
  return n === 0 ? 0 : sum / n;
}

export async function trainSft(options: SftRunOptions): Promise<SftResult> {
  const { policy, train, config } = options;
  const outDir = config.outDir;
  const checkpointDir = join(outDir, "checkpoint");
  const metricsPath = join(outDir, "metrics.jsonl");
  const checkpoints = checkpointFiles<{ seed: number; totalSteps: number }>(checkpointDir, policy);

  const microPerEpoch = Math.ceil(train.length / config.batchSize);
  const stepsPerEpoch = Math.max(1, Math.ceil(microPerEpoch / config.gradientAccumulation));
  const totalSteps =
    config.maxSteps > 0 ? Math.min(config.maxSteps, stepsPerEpoch * config.epochs) : stepsPerEpoch * config.epochs;

  let step = 0;
  const state = (options.resume ?? true) ? checkpoints.latest() : null;
  if (state !== null) {
    step = state.step;
    await policy.loadCheckpoint(checkpoints.policyPath(state));
  }
  const resumedFrom = step;
  const log = withDeviceMetrics(openMetricsLog(metricsPath, resumedFrom), policy);
  const checkpoint = () => checkpoints.save(step, { seed: config.seed, totalSteps });
  const evaluateNow = async () => {
    const devLoss = options.dev && options.dev.length > 0 ? await sftLoss(policy, options.dev, config.batchSize) : null;
    const extra = options.evaluate ? await options.evaluate(step) : {};
    log({ step, eval: true, devLoss, ...extra });
    return devLoss;
  };

  const bar = options.progress?.("sft", totalSteps, { startAt: step }) ?? null;
  let finalLoss = Number.NaN;
  let devLoss: number | null = null;
  let stepsThisRun = 0;
  while (step < totalSteps) {
    const epoch = Math.floor(step / stepsPerEpoch);
    const order = permutation(train.length, config.seed * 1_000_003 + epoch);
    const first = (step % stepsPerEpoch) * config.gradientAccumulation;
    const micro = Array.from({ length: config.gradientAccumulation }, (_, k) => first + k)
      .filter((m) => m < microPerEpoch)
      .map((m) => order.slice(m * config.batchSize, (m + 1) * config.batchSize).map((i) => toSequence(train[i]!)));
    const tokens = micro.flat().reduce((a, s) => a + s.tokens.length - s.completionStart, 0);
    const t0 = performance.now();
    let objective = 0;
    for (const batch of micro) {
      const coefficients = batch.map((s) => new Float32Array(s.tokens.length - s.completionStart).fill(-1 / tokens));
      objective += (await policy.accumulateGradients(batch, coefficients)).objective;
    }
    const lr = learningRateAt(step, {
      peak: config.learningRate,
      warmupSteps: config.warmupSteps,
      totalSteps,
      min: config.learningRate * config.minLearningRateRatio,
    });
    const { gradNorm } = await policy.step({
      learningRate: lr,
      maxGradNorm: config.maxGradNorm,
      weightDecay: config.weightDecay,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.adamEpsilon,
    });
    finalLoss = objective; // Σ (−1/N)·log π = mean cross-entropy
    step += 1;
    stepsThisRun += 1;
    const seconds = (performance.now() - t0) / 1000;
    log({ step, epoch, loss: finalLoss, lr, gradNorm, tokens, tokensPerSecond: tokens / Math.max(seconds, 1e-9) });
    bar?.update(step, `loss ${finalLoss.toFixed(4)}`);
    if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < totalSteps) devLoss = await evaluateNow();
    if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0) await checkpoint();
    if (options.stopAfterSteps !== undefined && stepsThisRun >= options.stopAfterSteps) {
      return { steps: step, finalLoss, devLoss, resumedFrom, metricsPath };
    }
  }
  devLoss = await evaluateNow();
  await checkpoint();
  bar?.finish(`loss ${finalLoss.toFixed(4)}`);
  return { steps: step, finalLoss, devLoss, resumedFrom, metricsPath };
}
