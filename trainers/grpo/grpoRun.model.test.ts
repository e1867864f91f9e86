/**
 * GRPO end to end on the real stack: a tiny random Qwen2 GGUF (writeTinyModel), node-llama-cpp sampling
 * with an f32 KV cache, the native LoRA policy, the real PGlite demo database and reward pipeline.
 * The reward adds a completion-length component so that rewards surely vary within a group of an
 * untrained model (every execution-based component is 0 for its gibberish).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset, type DatasetItem } from "../../data/loadDataset.js";
import { createLoraAdapter, loraTargetShapes, writeLoraAdapter } from "../../models/loraAdapter.js";
import { writeTinyModel } from "../../models/writeTinyModel.js";
import { groupAdvantages } from "./groupAdvantages.js";
import { DEFAULT_REWARD_COMPONENTS, type RewardComponent } from "../../rewards/weightedReward.js";
import { openDatabase } from "../../sql/openDatabase.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { createGrpoSession, runGrpo } from "./grpoRun.js";
import type { GrpoRunConfig } from "./grpoRunConfig.js";
import { grpoStep, type GrpoStepMetrics } from "./grpoStep.js";
import type { PolicyBackend, TokenSequence } from "../policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "grpo-run-test-"));
let executor: SqlExecutor;
let trainItems: DatasetItem[];
let base: Partial<GrpoRunConfig>;

const rewardComponents = (): Record<string, RewardComponent> => ({
  ...DEFAULT_REWARD_COMPONENTS({ bareSql: true }),
  length: { fn: async (samples) => samples.map((s) => s.completion.length / 40), weight: 1 },
});

beforeAll(async () => {
  const info = await writeTinyModel({
    out: join(dir, "tiny.gguf"),
    seed: 3,
    dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 },
  });
  executor = await openDatabase("demo");
  trainItems = (await loadDataset("train")).slice(0, 6);
  base = {
    model: info.path,
    groupSize: 4,
    promptsPerStep: 2,
    maxCompletionTokens: 10,
    maskTruncatedCompletions: false, // a random model never stops: every completion hits the limit
    temperature: 1,
    learningRate: 2e-2,
    beta: 0.04,
    lossType: "grpo",
    evalEvery: 0,
    checkpointEvery: 1,
    maxSteps: 2,
    seed: 11,
    loraRank: 4,
    loraAlpha: 8,
    threads: 1,
  };
}, 60_000);

afterAll(async () => {
  await executor?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sum = (xs: Float32Array | number[]): number => Array.from(xs).reduce((a, b) => a + b, 0);

describe("GRPO on the real stack", () => {
  test("one step: rollout → rewards → update → adapter swap; advantaged completions gain log-probability", async () => {
    const session = await createGrpoSession(
      { ...base, outDir: join(dir, "one") },
      { executor, rewardComponents: rewardComponents(), trainItems },
    );
    try {
      const prompts = session.prompts.slice(0, 2);
      // The sampler's raw log-probs (T = 1, f32 KV cache) equal the policy's on [prompt tokens, completion]:
      // the prompt tokens the trainer uses are the ones the sampler saw.
      const probe = await session.sampler.generateCandidates(prompts[0]!.prompt, 2, {
        temperatures: [1, 1],
        seeds: [1, 2],
        maxTokens: 8,
        scoreLogprobs: true, // GRPO's sampler skips the re-scoring; this probe asks for it
      });
      expect(probe.every((c) => c.logprobs.length === c.tokens.length && c.tokens.length > 0)).toBe(true);
      const probeBatch = probe.map((c) => ({
        tokens: [...prompts[0]!.promptTokens, ...c.tokens],
        completionStart: prompts[0]!.promptTokens.length,
      }));
      const policyProbe = await session.policy.logprobs(probeBatch, { temperature: 1 });
      probe.forEach((c, b) => {
        c.logprobs.forEach((lp, t) => {
          expect(Math.abs(lp - policyProbe[b]![t]!)).toBeLessThan(1e-3);
        });
      });

      // Capture what the step trains on.
      let batch: TokenSequence[] = [];
      let totals: number[] = [];
      const real = session.policy;
      const policy: PolicyBackend = {
        trainable: real.trainable,
        logprobs: (b, o) => real.logprobs(b, o),
        accumulateGradients: (b, c, o) => {
          batch = b;
          return real.accumulateGradients(b, c, o);
        },
        step: (o) => real.step(o),
        saveWeights: (p) => real.saveWeights(p),
        saveCheckpoint: (p) => real.saveCheckpoint(p),
        loadCheckpoint: (p) => real.loadCheckpoint(p),
        dispose: () => real.dispose(),
      };
      const options = session.trainOptions();
      const adapterBefore = session.model!.adapter;
      const passesBefore = session.policy.info().passes;
      const metrics = await grpoStep(
        0,
        prompts,
        {
          ...options,
          policy,
          scoreRewards: async (candidates) => {
            const r = await options.scoreRewards(candidates);
            totals = r.totals;
            return r;
          },
          adapterPath: (s) => join(dir, `one-adapter-${s + 1}.gguf`),
        },
        session.config,
      );

      expect(batch).toHaveLength(8);
      // β > 0, μ = 1: the reference forward and one training forward + backward — no separate π_old forward.
      const passes = session.policy.info().passes;
      expect(passes.forward - passesBefore.forward).toBe(2);
      expect(passes.backward - passesBefore.backward).toBe(1);
      expect(metrics.klMean).toBe(0); // the reference is the starting policy
      expect(session.scorer.lastSamples.every((s) => s.goldExecution?.ok === true)).toBe(true); // gold ran on PGlite
      expect(Object.keys(metrics.rewardComponents)).toEqual(
        expect.arrayContaining(["execution_match", "validity", "length"]),
      );
      expect(metrics.zeroVarianceGroups).toBe(0);
      expect(metrics.rewardStd).toBeGreaterThan(0);
      expect(Number.isFinite(metrics.loss) && metrics.gradNorm > 0).toBe(true);

      // Adapter swap: a new file, loaded by the sampler, which now generates with it.
      expect(existsSync(metrics.adapter)).toBe(true);
      expect(session.model!.adapter).not.toBe(adapterBefore);
      expect(session.model!.adapter).toContain(metrics.adapter);
      const after = await session.model!.generateCandidates(prompts[0]!.prompt, 1, {
        temperatures: [1],
        seeds: [5],
        maxTokens: 4,
      });
      expect(after[0]!.adapter).toBe(session.model!.adapter);

      // Policy improvement: Δ log π(o_i) has the sign of A_i on average, and Σ A_i·Δ log π(o_i) > 0.
      const { advantages } = groupAdvantages(totals, { groupSize: session.config.groupSize });
      const before = await session.policy.logprobs(batch, { reference: true, temperature: 1 }); // B = 0 at init: θ_old = base
      const now = await session.policy.logprobs(batch, { temperature: 1 });
      const delta = batch.map((_, b) => sum(now[b]!) - sum(before[b]!));
      const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
      const up = delta.filter((_, b) => advantages[b]! > 0);
      const down = delta.filter((_, b) => advantages[b]! < 0);
      expect(up.length).toBeGreaterThan(0);
      expect(down.length).toBeGreaterThan(0);
      expect(mean(up)).toBeGreaterThan(0);
      expect(mean(down)).toBeLessThan(0);
      expect(sum(delta.map((d, b) => d * advantages[b]!))).toBeGreaterThan(0);
    } finally {
      await session.dispose();
    }
  }, 60_000);

  test("from an SFT adapter with r 64 / α 128: its shape is kept, KL is exactly 0 at step 0 and > 0 after", async () => {
    const tiny = loraTargetShapes(base.model!);
    const adapterPath = join(dir, "sft-r64.gguf");
    // B ≠ 0: the adapter changes the model, so "reference = base" and "reference = start" differ.
    writeLoraAdapter(
      adapterPath,
      createLoraAdapter({ rank: 64, alpha: 128, targets: tiny, seed: 9, aStd: 0.05, bStd: 0.05 }),
    );
    const { loraRank: _r, loraAlpha: _a, ...fromAdapter } = base;
    const session = await createGrpoSession(
      { ...fromAdapter, adapter: adapterPath, outDir: join(dir, "from-sft") },
      { executor, rewardComponents: rewardComponents(), trainItems },
    );
    try {
      expect(session.policy.info().lora).toMatchObject({ rank: 64, alpha: 128 });
      expect(session.model!.adapter).toContain(adapterPath); // the sampler starts there too
      const prompts = session.prompts.slice(0, 2);
      const deps = { ...session.trainOptions(), adapterPath: (s: number) => join(dir, `sft-adapter-${s + 1}.gguf`) };
      const first = await grpoStep(0, prompts, deps, session.config);
      expect(first.klMean).toBe(0);
      expect(first.gradNorm).toBeGreaterThan(0);
      const second = await grpoStep(1, prompts, deps, session.config);
      expect(second.klMean).toBeGreaterThan(0);
      // The reference is the SFT adapter, not the base: with the adapter's B ≠ 0 they differ.
      const probe = [
        { tokens: [...prompts[0]!.promptTokens, 1, 2, 3], completionStart: prompts[0]!.promptTokens.length },
      ];
      const reference = await session.policy.logprobs(probe, { reference: true, temperature: 1 });
      const baseOnly = await createGrpoSession(
        { ...base, outDir: join(dir, "base-only") },
        { executor, rewardComponents: rewardComponents(), trainItems },
      );
      try {
        const baseLogprobs = await baseOnly.policy.logprobs(probe, { reference: true, temperature: 1 });
        expect(Math.max(...Array.from(reference[0]!, (x, t) => Math.abs(x - baseLogprobs[0]![t]!)))).toBeGreaterThan(
          1e-3,
        );
      } finally {
        await baseOnly.dispose();
      }
    } finally {
      await session.dispose();
    }
  }, 60_000);

  test("resume after a kill continues from the checkpoint: step 2 runs on the restored adapter and optimizer", async () => {
    const common = { executor, rewardComponents: rewardComponents(), trainItems };
    const killedDir = join(dir, "killed");
    const first = await runGrpo({ ...base, outDir: killedDir }, { ...common, stopAfterSteps: 1 });
    expect(first.steps).toBe(1);
    expect(existsSync(join(killedDir, "checkpoint", "state.json"))).toBe(true);
    const resumed = await runGrpo({ ...base, outDir: killedDir }, common);
    expect(resumed.resumedFrom).toBe(1);
    expect(resumed.steps).toBe(2);
    expect(existsSync(join(killedDir, "adapter.gguf"))).toBe(true);
    // KL to the reference is exactly 0 for a fresh adapter (B = 0): > 0 at step 2 means the step-1 weights came back.
    expect(resumed.last!.klMean).toBeGreaterThan(0);
    const lines = readFileSync(resumed.metricsPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as GrpoStepMetrics & { eval?: boolean; prompts?: unknown });
    expect(lines.filter((l) => !l.eval && l.prompts === undefined).map((l) => l.step)).toEqual([1, 2]);
    expect(lines[0]).toMatchObject({ step: 0, prompts: { total: 6, used: 6, emptyGold: 0, failedGold: 0 } });
    // Exact step-2 equality with an uninterrupted run is not asserted: the sampler's logits depend in the last
    // bits on how llama.cpp batches the tokens (a warm context reuses the prompt's KV cache, a fresh one
    // evaluates it whole), so at T = 1 a token can differ now and then. The policy side of resuming is exact:
    // trainers/sft/sftTrainer.model.test.ts checks the same checkpoint path step by step to 1e-5.
  }, 240_000);
});
