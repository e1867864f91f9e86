/**
 * NativePolicy (the native gradient extension) on real tiny Qwen2 GGUFs: gradients vs central finite
 * differences, log-probs vs node-llama-cpp (with and without a LoRA adapter the extension saved), AdamW,
 * checkpoint resume, and typed errors for bad files.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNativeError } from "../errors.js";
import { GGML_TYPE, readGguf, writeGguf } from "../models/ggufFile.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import {
  gradientError,
  llamaLogprobs,
  meanAbsDelta,
  objectiveOf,
  randomizeLoraB,
  sampleBatch,
  sampleCoefficients,
} from "./native/policyChecks.js";
import { NativePolicy } from "./nativePolicy.js";
import type { StepOptions, TokenSequence } from "./policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "native-policy-test-"));
const tiedPath = join(dir, "tied.gguf");
const untiedPath = join(dir, "untied.gguf");
const dims = { embedding: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 128 };
let vocab = 0;

const makeBatch = (seed: number): TokenSequence[] => sampleBatch(seed, vocab);
const coefficientsFor = sampleCoefficients;
const adamw: StepOptions = {
  learningRate: 1e-2,
  maxGradNorm: 1,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};

const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => meanAbsDelta([a], [b]);

/** node-llama-cpp's log-probs of each sequence's completion (f32 KV cache) are within 1e-3 (mean |Δ|) of `expected`. */
async function expectLlamaLogprobs(
  modelPath: string,
  batch: TokenSequence[],
  expected: Float32Array[],
  adapter?: string,
): Promise<void> {
  const llama = await llamaLogprobs(modelPath, batch, adapter ? { adapter } : {});
  for (const [b, row] of llama.entries()) {
    expect(row.length).toBe(expected[b]!.length);
    expect(meanAbs(row, expected[b]!)).toBeLessThanOrEqual(1e-3);
  }
}

beforeAll(async () => {
  const tied = await writeTinyModel({ out: tiedPath, seed: 3, initStd: 0.3, dims: { ...dims, tied: true } });
  await writeTinyModel({ out: untiedPath, seed: 4, initStd: 0.3, dims: { ...dims, tied: false } });
  vocab = tied.vocabSize;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("NativePolicy gradients", () => {
  test("LoRA A and B of every target match central finite differences (tied head)", async () => {
    const policy = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 4, alpha: 8, seed: 1 } });
    try {
      expect(policy.trainable).toBe("lora");
      const names = policy.trainableNames();
      expect(names).toHaveLength(2 * 7 * dims.layers);
      randomizeLoraB(policy, 0.2);
      const batch = makeBatch(7);
      const c = coefficientsFor(batch);
      const { objective, logprobs } = await policy.accumulateGradients(batch, c);
      expect(objective).toBeCloseTo(await objectiveOf(policy, batch, c), 3);
      expect(logprobs.map((r) => r.length)).toEqual([5, 4]);
      let worst = 0;
      for (const name of names) worst = Math.max(worst, await gradientError(policy, name, batch, c));
      expect(worst).toBeLessThanOrEqual(1e-2);
    } finally {
      await policy.dispose();
    }
  }, 60_000);

  test('trainable "all": every weight type of an untied model matches finite differences', async () => {
    const policy = await NativePolicy.create({ modelPath: untiedPath, trainable: "all" });
    try {
      const names = policy.trainableNames();
      expect(names).toEqual(
        expect.arrayContaining([
          "token_embd.weight",
          "output.weight",
          "output_norm.weight",
          "blk.1.attn_q.bias",
          "blk.1.ffn_down.weight",
        ]),
      );
      const batch = makeBatch(11);
      const c = coefficientsFor(batch);
      await policy.accumulateGradients(batch, c);
      // One tensor of each kind (the per-layer kinds from the last layer).
      const kinds = names.filter((n) => !n.startsWith("blk.") || n.startsWith(`blk.${dims.layers - 1}.`));
      let worst = 0;
      for (const name of kinds) worst = Math.max(worst, await gradientError(policy, name, batch, c, 3));
      expect(worst).toBeLessThanOrEqual(1e-2);
    } finally {
      await policy.dispose();
    }
  }, 60_000);

  test("temperature: log-probs are of logits/T (T → ∞ gives the uniform −log V) and gradients follow", async () => {
    const policy = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 2, alpha: 4 } });
    try {
      randomizeLoraB(policy, 0.2);
      const batch = makeBatch(13);
      const atOne = await policy.logprobs(batch);
      const hot = await policy.logprobs(batch, { temperature: 1e5 });
      for (const x of hot.flatMap((row) => Array.from(row))) expect(x).toBeCloseTo(-Math.log(vocab), 3);
      const warm = await policy.logprobs(batch, { temperature: 0.7 });
      expect(Math.abs(warm[0]![0]! - atOne[0]![0]!)).toBeGreaterThan(1e-3);
      const c = coefficientsFor(batch);
      const { logprobs } = await policy.accumulateGradients(batch, c, { temperature: 0.7 });
      expect(Array.from(logprobs[1]!)).toEqual(Array.from(warm[1]!));
      const name = "blk.1.attn_output.weight.lora_b";
      const grad = policy.getGrad(name);
      const weights = policy.getTensor(name);
      const i = Array.from(grad.keys()).reduce((best, j) => (Math.abs(grad[j]!) > Math.abs(grad[best]!) ? j : best), 0);
      const at = async (w: number): Promise<number> => {
        weights[i] = w;
        policy.setTensor(name, weights);
        const lp = await policy.logprobs(batch, { temperature: 0.7 });
        return lp.reduce((sum, row, b) => sum + row.reduce((s, x, t) => s + x * c[b]![t]!, 0), 0);
      };
      const w0 = weights[i]!;
      const fd = ((await at(w0 + 1e-2)) - (await at(w0 - 1e-2))) / 2e-2;
      expect(Math.abs(grad[i]! - fd) / Math.abs(fd)).toBeLessThan(1e-2);
    } finally {
      await policy.dispose();
    }
  }, 30_000);

  test("LoRA dropout: accumulate sees a dropped-out LoRA branch (deterministic per seed), logprobs does not", async () => {
    const batch = makeBatch(17);
    const c = coefficientsFor(batch);
    const run = async (dropout: number): Promise<{ eval: number; train: number; grad: Float32Array }> => {
      const policy = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 4, alpha: 8, dropout, seed: 5 } });
      try {
        randomizeLoraB(policy, 0.5);
        const evalObjective = await objectiveOf(policy, batch, c);
        const { objective } = await policy.accumulateGradients(batch, c);
        return { eval: evalObjective, train: objective, grad: policy.getGrad("blk.0.ffn_up.weight.lora_a") };
      } finally {
        await policy.dispose();
      }
    };
    const none = await run(0);
    const first = await run(0.5);
    const again = await run(0.5);
    expect(none.train).toBeCloseTo(none.eval, 4);
    expect(first.eval).toBeCloseTo(none.eval, 5);
    expect(Math.abs(first.train - first.eval)).toBeGreaterThan(1e-3);
    expect(again.train).toBe(first.train);
    expect(Array.from(again.grad)).toEqual(Array.from(first.grad));
    expect(Math.hypot(...first.grad.map((x, i) => x - none.grad[i]!))).toBeGreaterThan(0);
    for (const lora of [{ dropout: 1 }, { targets: [] }, { targets: ["attn_q", "attn_q"] }, { targets: ["lm_head"] }]) {
      await expect(NativePolicy.create({ modelPath: tiedPath, lora })).rejects.toMatchObject({ code: "native.input" });
    }
  }, 30_000);

  test("LoRA dropout masks come from (seed, step, call): another call or step draws others, the same ones repeat", async () => {
    const batch = makeBatch(17);
    const c = coefficientsFor(batch);
    const objectives = async (): Promise<number[]> => {
      const policy = await NativePolicy.create({
        modelPath: tiedPath,
        lora: { rank: 4, alpha: 8, dropout: 0.5, seed: 9 },
      });
      try {
        randomizeLoraB(policy, 0.5);
        const out = [(await policy.accumulateGradients(batch, c)).objective];
        out.push((await policy.accumulateGradients(batch, c)).objective); // second call of step 0
        await policy.step({ ...adamw, learningRate: 0 });
        out.push((await policy.accumulateGradients(batch, c)).objective); // first call of step 1
        return out;
      } finally {
        await policy.dispose();
      }
    };
    const first = await objectives();
    expect(new Set(first).size).toBe(3);
    expect(await objectives()).toEqual(first);
  }, 30_000);

  test("activation recompute: the same gradients (dropout too) from each layer's input, a smaller compute buffer", async () => {
    const batch = makeBatch(23);
    const c = coefficientsFor(batch);
    const run = async (recompute: boolean) => {
      const policy = await NativePolicy.create({
        modelPath: tiedPath,
        recompute,
        lora: { rank: 4, alpha: 8, dropout: 0.3, seed: 4 },
      });
      try {
        randomizeLoraB(policy, 0.5);
        const { objective } = await policy.accumulateGradients(batch, c);
        const grads = policy.trainableNames().map((n) => policy.getGrad(n));
        return { objective, grads, mib: policy.info().computeBufferMiB };
      } finally {
        await policy.dispose();
      }
    };
    const kept = await run(false);
    const again = await run(true);
    expect(again.objective).toBe(kept.objective);
    for (let i = 0; i < kept.grads.length; i++) {
      const g = again.grads[i]!;
      const r = kept.grads[i]!;
      expect(Math.hypot(...g.map((x, j) => x - r[j]!)) / Math.max(Math.hypot(...r), 1e-30)).toBeLessThan(1e-6);
    }
    expect(again.mib).toBeLessThan(kept.mib);
  }, 30_000);

  test("two ggml threads give the one-thread log-probs and gradients; a bad thread count is refused", async () => {
    const policy = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 2, alpha: 4 }, threads: 1 });
    try {
      randomizeLoraB(policy, 0.2);
      const batch = makeBatch(17);
      const c = coefficientsFor(batch);
      const name = "blk.1.ffn_up.weight.lora_a";
      const one = await policy.accumulateGradients(batch, c);
      const gradOne = policy.getGrad(name);
      await policy.step({ ...adamw, learningRate: 0 });
      policy.setThreads(2);
      const two = await policy.accumulateGradients(batch, c);
      const gradTwo = policy.getGrad(name);
      expect(two.objective).toBeCloseTo(one.objective, 4);
      expect(Math.hypot(...gradTwo.map((x, i) => x - gradOne[i]!)) / Math.hypot(...gradOne)).toBeLessThan(1e-4);
      expect(() => policy.setThreads(0)).toThrow(/threads must be ≥ 1/);
    } finally {
      await policy.dispose();
    }
  }, 30_000);

  test("gradients accumulate across calls until step() zeroes them", async () => {
    const policy = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 2, alpha: 4 } });
    try {
      const batch = makeBatch(5);
      const c = coefficientsFor(batch);
      await policy.accumulateGradients(batch, c);
      const once = policy.getGrad("blk.0.attn_v.weight.lora_b");
      await policy.accumulateGradients(batch, c);
      const twice = policy.getGrad("blk.0.attn_v.weight.lora_b");
      const norm = Math.hypot(...once);
      expect(norm).toBeGreaterThan(0);
      expect(Math.hypot(...twice.map((x, i) => x - 2 * once[i]!)) / norm).toBeLessThan(1e-5);
      const { gradNorm } = await policy.step(adamw);
      expect(gradNorm).toBeGreaterThan(0);
      expect(policy.getGrad("blk.0.attn_v.weight.lora_b").every((x) => x === 0)).toBe(true);
    } finally {
      await policy.dispose();
    }
  }, 30_000);
});

describe("NativePolicy training", () => {
  test("AdamW steps on cross-entropy lower the loss; a checkpoint resumes exactly", async () => {
    const batch = makeBatch(3);
    const n = batch.reduce((s, q) => s + q.tokens.length - q.completionStart, 0);
    const ce = batch.map((q) => new Float32Array(q.tokens.length - q.completionStart).fill(-1 / n));
    const checkpoint = join(dir, "ckpt.gguf");
    const policy = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 4, alpha: 8 } });
    const losses: number[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const { objective } = await policy.accumulateGradients(batch, ce);
        losses.push(objective); // Σ (−1/n)·log p = the mean cross-entropy
        await policy.step({ ...adamw, learningRate: 3e-2 });
        if (i === 2) await policy.saveCheckpoint(checkpoint);
      }
    } finally {
      await policy.dispose();
    }
    expect(losses[5]!).toBeLessThan(losses[0]! - 0.5);

    // "Killed" after step 3: a fresh policy from the checkpoint repeats steps 4..6 exactly.
    const resumed = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 4, alpha: 8, seed: 999 } });
    try {
      await resumed.loadCheckpoint(checkpoint);
      expect(resumed.info().step).toBe(3);
      for (let i = 3; i < 6; i++) {
        const { objective } = await resumed.accumulateGradients(batch, ce);
        expect(objective).toBeCloseTo(losses[i]!, 5);
        await resumed.step({ ...adamw, learningRate: 3e-2 });
      }
    } finally {
      await resumed.dispose();
    }
  }, 60_000);
});

describe("NativePolicy vs node-llama-cpp", () => {
  test("log-probs match with no adapter, with a LoRA adapter the extension saved, and reference = base", async () => {
    const policy = await NativePolicy.create({ modelPath: untiedPath, lora: { rank: 4, alpha: 8, seed: 2 } });
    const adapterPath = join(dir, "adapter.gguf");
    const batch = makeBatch(21);
    let base: Float32Array[];
    let adapted: Float32Array[];
    let reference: Float32Array[];
    try {
      base = await policy.logprobs(batch);
      randomizeLoraB(policy, 0.3);
      adapted = await policy.logprobs(batch);
      reference = await policy.logprobs(batch, { reference: true });
      await policy.saveWeights(adapterPath);
    } finally {
      await policy.dispose();
    }
    expect(meanAbs(reference[0]!, base[0]!)).toBeLessThan(1e-6);
    expect(meanAbs(adapted[0]!, base[0]!)).toBeGreaterThan(1e-2); // the adapter changes something

    await expectLlamaLogprobs(untiedPath, batch, base);
    await expectLlamaLogprobs(untiedPath, batch, adapted, adapterPath);
  }, 90_000);

  test("lora.initPath starts from a saved adapter; one of another rank is refused", async () => {
    const path = join(dir, "init-adapter.gguf");
    const batch = makeBatch(27);
    const first = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 4, alpha: 8, seed: 1 } });
    let expected: Float32Array[];
    try {
      randomizeLoraB(first, 0.3);
      expected = await first.logprobs(batch);
      await first.saveWeights(path);
    } finally {
      await first.dispose();
    }
    const second = await NativePolicy.create({
      modelPath: tiedPath,
      lora: { rank: 4, alpha: 8, seed: 2, initPath: path },
    });
    try {
      expect(Array.from((await second.logprobs(batch))[0]!)).toEqual(Array.from(expected[0]!));
    } finally {
      await second.dispose();
    }
    await expect(
      NativePolicy.create({ modelPath: tiedPath, lora: { rank: 2, alpha: 8, initPath: path } }),
    ).rejects.toMatchObject({ code: "native.shape" });
  }, 30_000);

  test('trainable "all": the saved full model gives node-llama-cpp the extension\'s log-probs', async () => {
    const policy = await NativePolicy.create({ modelPath: tiedPath, trainable: "all" });
    const out = join(dir, "trained.gguf");
    const batch = makeBatch(8);
    let trained: Float32Array[];
    try {
      await policy.accumulateGradients(batch, coefficientsFor(batch));
      await policy.step(adamw);
      trained = await policy.logprobs(batch);
      await policy.saveWeights(out);
    } finally {
      await policy.dispose();
    }
    await expectLlamaLogprobs(out, batch, trained);
  }, 60_000);
});

describe("NativePolicy on Qwen3", () => {
  test("a qwen3 (dense) GGUF: q/k RMS norms and no biases; log-probs match node-llama-cpp", async () => {
    // The tiny Qwen2 rewritten as Qwen3: metadata keys renamed, q/k/v biases dropped, per-head q/k norms added.
    const source = readGguf(untiedPath, { data: true });
    const headDim = dims.embedding / dims.heads;
    const metadata = new Map(
      Array.from(
        source.metadata,
        ([key, value]) => [key.startsWith("qwen2.") ? `qwen3.${key.slice(6)}` : key, value] as const,
      ),
    );
    metadata.set("general.architecture", { type: "string", value: "qwen3" });
    const tensors = source.tensors.filter((t) => !t.name.endsWith(".bias"));
    for (let layer = 0; layer < dims.layers; layer++) {
      for (const [name, phase] of [
        ["attn_q_norm", 0.3],
        ["attn_k_norm", 1.1],
      ] as const) {
        tensors.push({
          name: `blk.${layer}.${name}.weight`,
          shape: [headDim],
          type: GGML_TYPE.F32,
          data: Float32Array.from({ length: headDim }, (_, i) => 1 + 0.5 * Math.sin(i + phase + layer)),
        });
      }
    }
    const path = join(dir, "qwen3.gguf");
    writeGguf(path, { metadata, tensors });
    const batch = makeBatch(41);
    const policy = await NativePolicy.create({ modelPath: path, lora: { rank: 2, alpha: 4 } });
    let ours: Float32Array[];
    try {
      expect(policy.info().architecture).toBe("qwen3");
      ours = await policy.logprobs(batch);
    } finally {
      await policy.dispose();
    }
    await expectLlamaLogprobs(path, batch, ours);
  }, 30_000);
});

describe("NativePolicy errors", () => {
  test("missing file, not-GGUF, truncated GGUF, checkpoint shape mismatch and bad input reject with NativeError", async () => {
    const notGguf = join(dir, "not.gguf");
    writeFileSync(notGguf, "hello, this is not a model");
    const truncated = join(dir, "truncated.gguf");
    writeFileSync(truncated, Buffer.from("GGUF\x03\x00\x00\x00\x05"));
    for (const [modelPath, code] of [
      [join(dir, "missing.gguf"), "native.file"],
      [notGguf, "native.gguf"],
      [truncated, "native.gguf"],
    ] as const) {
      const error = await NativePolicy.create({ modelPath }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isNativeError(error)).toBe(true);
      expect((error as { code: string }).code).toBe(code);
      expect((error as Error).message).toContain(modelPath);
    }

    const rank4 = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 4, alpha: 8 } });
    const rank2 = await NativePolicy.create({ modelPath: tiedPath, lora: { rank: 2, alpha: 8 } });
    try {
      const ckpt = join(dir, "rank4.gguf");
      await rank4.saveCheckpoint(ckpt);
      const mismatch = await rank2.loadCheckpoint(ckpt).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isNativeError(mismatch)).toBe(true);
      expect((mismatch as { code: string }).code).toBe("native.shape");
      expect((mismatch as Error).message).toMatch(/lora_a.*\[32, 4\].*\[32, 2\]/);

      const badToken = await rank2.logprobs([{ tokens: [1, vocab + 5], completionStart: 1 }]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isNativeError(badToken) && (badToken as { code: string }).code).toBe("native.input");
      const badCoefficients = await rank2
        .accumulateGradients([{ tokens: [1, 2, 3], completionStart: 1 }], [new Float32Array(5)])
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(isNativeError(badCoefficients) && (badCoefficients as Error).message).toMatch(/2 completion tokens/);
      // The process and the policy are still usable.
      const ok = await rank2.logprobs([{ tokens: [1, 2, 3], completionStart: 1 }]);
      expect(ok[0]!.every((x) => Number.isFinite(x) && x < 0)).toBe(true);
    } finally {
      await rank4.dispose();
      await rank2.dispose();
    }
  }, 30_000);

  test("LoRA defaults by model size: r 8 on a small model, r 64 / alpha 128 on a real-sized one", async () => {
    const lora7 = (d: number, r: number, ffn: number, kv: number): number => {
      // attn_q, attn_output: d×d; attn_k, attn_v: d×kv; ffn_gate, ffn_up: d×ffn; ffn_down: ffn×d — A and B each.
      return r * (2 * (d + d) + 2 * (d + kv) + 2 * (d + ffn) + (ffn + d));
    };
    const small = await NativePolicy.create({ modelPath: tiedPath });
    try {
      const kv = (dims.embedding / dims.heads) * dims.kvHeads;
      expect(small.info().trainableParameters).toBe(dims.layers * lora7(dims.embedding, 8, dims.ffn, kv));
    } finally {
      await small.dispose();
    }
    const bigDims = { embedding: 512, layers: 1, heads: 8, kvHeads: 2, ffn: 128, context: 64 };
    const bigPath = join(dir, "d512.gguf");
    await writeTinyModel({ out: bigPath, dims: bigDims, seed: 3 });
    const big = await NativePolicy.create({ modelPath: bigPath });
    try {
      expect(big.info().trainableParameters).toBe(lora7(512, 64, 128, (512 / 8) * 2));
    } finally {
      await big.dispose();
    }
  }, 60_000);
});
