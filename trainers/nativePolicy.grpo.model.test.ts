/**
 * What GRPO needs from the native policy: coefficients computed from the same forward (one forward + one
 * backward), the frozen starting policy as KL reference, the adapter's own shape, LoRA dropout's exact rescale,
 * and the sampler's log-probs at T ≠ 1 agreeing with the trainer's.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Token } from "node-llama-cpp";
import { readGguf, writeGguf } from "../models/ggufFile.js";
import { getLlamaRuntime } from "../models/llamaRuntime.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import { randomizeLoraB, sampleBatch, sampleCoefficients } from "./native/policyChecks.js";
import { NativePolicy } from "./nativePolicy.js";
import type { StepOptions } from "./policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "native-grpo-test-"));
const modelPath = join(dir, "tiny.gguf");
const dims = { embedding: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 128, tied: true };
let vocab = 0;
const adamw: StepOptions = {
  learningRate: 1e-2,
  maxGradNorm: 1,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};
/** A GRPO-like coefficient function of the log-probs (detached): −exp(log p)·(1 + b). */
const coefficientFn = (lp: Float32Array[]): Float32Array[] =>
  lp.map((row, b) => row.map((x) => -Math.exp(x) * (1 + b)));

beforeAll(async () => {
  vocab = (await writeTinyModel({ out: modelPath, seed: 5, initStd: 0.3, dims })).vocabSize;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A policy whose LoRA B is non-zero, saved as an adapter ("the SFT adapter"); returns its path. */
async function writeAdapter(name: string, lora: { rank: number; alpha: number; targets?: string[] }): Promise<string> {
  const path = join(dir, name);
  const policy = await NativePolicy.create({ modelPath, lora: { ...lora, seed: 3 } });
  try {
    randomizeLoraB(policy, 0.3);
    await policy.saveWeights(path);
  } finally {
    await policy.dispose();
  }
  return path;
}

describe("accumulateGradients with a coefficient function", () => {
  test("one forward and one backward give the two-call result", async () => {
    const batch = sampleBatch(7, vocab);
    const twoCalls = await NativePolicy.create({ modelPath, lora: { rank: 4, alpha: 8, seed: 1 } });
    const oneCall = await NativePolicy.create({ modelPath, lora: { rank: 4, alpha: 8, seed: 1 } });
    try {
      randomizeLoraB(twoCalls, 0.2);
      randomizeLoraB(oneCall, 0.2);
      const lp = await twoCalls.logprobs(batch, { temperature: 0.8 });
      const two = await twoCalls.accumulateGradients(batch, coefficientFn(lp), { temperature: 0.8 });
      let seen: Float32Array[] = [];
      const one = await oneCall.accumulateGradients(
        batch,
        (l) => {
          seen = l;
          return coefficientFn(l);
        },
        { temperature: 0.8 },
      );
      expect(oneCall.info().passes).toEqual({ forward: 1, backward: 1 });
      expect(twoCalls.info().passes).toEqual({ forward: 2, backward: 1 });
      expect(seen.map((r) => Array.from(r))).toEqual(lp.map((r) => Array.from(r)));
      expect(Math.abs(one.objective - two.objective)).toBeLessThanOrEqual(1e-6 * Math.abs(two.objective));
      for (const name of oneCall.trainableNames()) {
        const a = oneCall.getGrad(name);
        const b = twoCalls.getGrad(name);
        const scale = Math.max(Math.hypot(...b), 1e-12);
        expect(Math.hypot(...a.map((x, i) => x - b[i]!)) / scale).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      await twoCalls.dispose();
      await oneCall.dispose();
    }
  }, 30_000);

  test("a function that throws or returns the wrong shape rejects before the backward; the policy stays usable", async () => {
    const batch = sampleBatch(9, vocab);
    const policy = await NativePolicy.create({ modelPath, lora: { rank: 2, alpha: 4 } });
    try {
      const name = "blk.1.ffn_up.weight.lora_b";
      await expect(
        policy.accumulateGradients(batch, () => {
          throw new Error("advantage table missing");
        }),
      ).rejects.toMatchObject({
        code: "native.input",
        message: expect.stringMatching(/threw: advantage table missing/),
      });
      await expect(policy.accumulateGradients(batch, (lp) => lp.slice(1))).rejects.toMatchObject({
        code: "native.input",
        message: expect.stringMatching(/returned 1 rows for a batch of 2/),
      });
      expect(policy.getGrad(name).every((x) => x === 0)).toBe(true);
      await policy.accumulateGradients(batch, coefficientFn);
      expect(policy.getGrad(name).some((x) => x !== 0)).toBe(true);
    } finally {
      await policy.dispose();
    }
  }, 30_000);
});

describe("the KL reference is the policy as loaded, frozen", () => {
  test("from an SFT adapter: KL exactly 0 before the first step, > 0 after one", async () => {
    const adapter = await writeAdapter("sft.gguf", { rank: 4, alpha: 8 });
    const batch = sampleBatch(11, vocab);
    const policy = await NativePolicy.create({ modelPath, lora: { initPath: adapter } });
    const klOf = async (): Promise<number> => {
      const now = await policy.logprobs(batch, { temperature: 0.9 });
      const ref = await policy.logprobs(batch, { reference: true, temperature: 0.9 });
      // k3 estimator, as GRPO: exp(ref − now) − (ref − now) − 1, summed.
      return now.reduce(
        (s, row, b) => s + row.reduce((t, x, i) => t + Math.expm1(ref[b]![i]! - x) - (ref[b]![i]! - x), 0),
        0,
      );
    };
    try {
      const base = await NativePolicy.create({ modelPath, lora: { rank: 4, alpha: 8 } });
      const baseLp = await base.logprobs(batch, { temperature: 0.9 });
      await base.dispose();
      const ref = await policy.logprobs(batch, { reference: true, temperature: 0.9 });
      expect(Math.abs(ref[0]![0]! - baseLp[0]![0]!)).toBeGreaterThan(1e-3); // the reference is not the base
      expect(await klOf()).toBe(0);
      await policy.accumulateGradients(batch, sampleCoefficients(batch), { temperature: 0.9 });
      await policy.step(adamw);
      expect(await klOf()).toBeGreaterThan(1e-6);
      // …and the reference itself did not move.
      expect((await policy.logprobs(batch, { reference: true, temperature: 0.9 })).map((r) => Array.from(r))).toEqual(
        ref.map((r) => Array.from(r)),
      );
    } finally {
      await policy.dispose();
    }
  }, 30_000);
});

describe("the adapter's own shape", () => {
  test("r 64 / alpha 128 (the real-model defaults) continue on the tiny model without options", async () => {
    const adapter = await writeAdapter("r64.gguf", { rank: 64, alpha: 128 });
    const batch = sampleBatch(13, vocab);
    const policy = await NativePolicy.create({ modelPath, lora: { initPath: adapter } });
    try {
      expect(policy.info().lora).toEqual({
        rank: 64,
        alpha: 128,
        targets: ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"],
      });
      await policy.accumulateGradients(batch, sampleCoefficients(batch));
      await policy.step(adamw);
      // Options that agree are accepted; ones that disagree are refused, saying what the file holds.
      const agreeing = await NativePolicy.create({ modelPath, lora: { initPath: adapter, rank: 64, alpha: 128 } });
      await agreeing.dispose();
      await expect(NativePolicy.create({ modelPath, lora: { initPath: adapter, alpha: 16 } })).rejects.toMatchObject({
        code: "native.shape",
        message: expect.stringMatching(/has alpha 128.*the options say alpha 16/),
      });
      await expect(
        NativePolicy.create({ modelPath, lora: { initPath: adapter, targets: ["attn_q"] } }),
      ).rejects.toMatchObject({ code: "native.shape", message: expect.stringMatching(/adapts \[attn_q, attn_k/) });
    } finally {
      await policy.dispose();
    }
  }, 60_000);

  test("targets come from the tensor names; tensors the model cannot take are errors, not skipped", async () => {
    const adapter = await writeAdapter("qv.gguf", { rank: 2, alpha: 4, targets: ["attn_q", "attn_v"] });
    const policy = await NativePolicy.create({ modelPath, lora: { initPath: adapter } });
    expect(policy.info().lora).toEqual({ rank: 2, alpha: 4, targets: ["attn_q", "attn_v"] });
    expect(policy.trainableNames()).toHaveLength(2 * 2 * dims.layers);
    await policy.dispose();

    const source = readGguf(adapter, { data: true });
    const a = source.tensors.find((t) => t.name === "blk.0.attn_q.weight.lora_a")!;
    const b = source.tensors.find((t) => t.name === "blk.0.attn_q.weight.lora_b")!;
    const cases: [string, typeof source.tensors, RegExp][] = [
      [
        "layer.gguf",
        [...source.tensors, { ...a, name: "blk.2.attn_q.weight.lora_a" }],
        /blk\.2\.attn_q\.weight\.lora_a.*2-layer/,
      ],
      ["name.gguf", [...source.tensors, { ...a, name: "blk.0.attn_qkv.weight.lora_a" }], /attn_qkv.*cannot take/],
      ["other.gguf", [...source.tensors, { ...a, name: "token_embd.weight" }], /token_embd\.weight.*cannot take/],
      [
        "shape.gguf",
        source.tensors.map((t) =>
          t.name === b.name ? { ...b, shape: [2, 16], data: (b.data as Float32Array).slice(0, 32) } : t,
        ),
        /lora_b of shape \[2, 16\].*must be \[r, 32\]/,
      ],
      ["lone.gguf", source.tensors.filter((t) => t.name !== b.name), /lora_a without its lora_b/],
    ];
    for (const [name, tensors, message] of cases) {
      const path = join(dir, name);
      writeGguf(path, { metadata: source.metadata, tensors });
      await expect(NativePolicy.create({ modelPath, lora: { initPath: path } })).rejects.toMatchObject({
        code: "native.shape",
        message: expect.stringMatching(message),
      });
    }
  }, 60_000);
});

describe("LoRA dropout", () => {
  test("kept inputs are scaled by exactly 1/(1−p), dropped ones are 0", async () => {
    // Only ffn_down adapted, B = 0 (the forward is the base model's whatever the masks), and the last layer's A
    // one-hot: A[i_r, r] = 1. With one predicted token at position 0, ∂/∂B[r, o] of that layer is
    // scale·x₀[i_r]·mask₀[i_r]·dY₀[o], so the ratio to the dropout-free gradient is the mask entry itself.
    const p = 0.5;
    const batch = [{ tokens: [5, 9], completionStart: 1 }];
    const c = [new Float32Array([-1])];
    const name = `blk.${dims.layers - 1}.ffn_down.weight`;
    const gradients = async (dropout: number, calls: number): Promise<Float32Array[]> => {
      const policy = await NativePolicy.create({
        modelPath,
        lora: { rank: 4, alpha: 4, targets: ["ffn_down"], dropout, seed: 7 },
      });
      try {
        const a = new Float32Array(dims.ffn * 4);
        for (let r = 0; r < 4; r++) a[r * dims.ffn + 3 + 11 * r] = 1; // A is [n_in, r]: column r picks input 3 + 11r
        policy.setTensor(`${name}.lora_a`, a);
        const out: Float32Array[] = [];
        for (let call = 0; call < calls; call++) {
          policy.zeroGrad();
          await policy.accumulateGradients(batch, c);
          out.push(policy.getGrad(`${name}.lora_b`));
        }
        return out;
      } finally {
        await policy.dispose();
      }
    };
    const [plain] = await gradients(0, 1);
    const ratios = new Set<number>();
    for (const dropped of await gradients(p, 6)) {
      for (let r = 0; r < 4; r++) {
        // B is [r, n_out]: row r of dB is dropped[r + 4·o].
        const ratio = dropped[r]! / plain![r]!;
        expect([0, 1 / (1 - p)].some((v) => Math.abs(ratio - v) < 1e-5)).toBe(true);
        for (let o = 1; o < dims.embedding; o += 7)
          expect(dropped[r + 4 * o]!).toBeCloseTo(ratio * plain![r + 4 * o]!, 6);
        ratios.add(Math.round(ratio));
      }
    }
    expect([...ratios].sort()).toEqual([0, 2]); // both outcomes occurred over 24 draws
  }, 30_000);
});

describe("sampler vs trainer at a sampling temperature", () => {
  test.each([0.7, 1.3])(
    "T = %s: node-llama-cpp's sampling probabilities (f32 KV cache, no top-k/top-p) are the trainer's log softmax(logits/T)",
    async (temperature) => {
      const llama = await getLlamaRuntime("cpu");
      const model = await llama.loadModel({ modelPath });
      const context = await model.createContext({
        contextSize: 64,
        sequences: 1,
        flashAttention: false,
        experimentalKvCacheKeyType: "F32",
        experimentalKvCacheValueType: "F32",
      });
      const prompt = [3, 17, 42, 8];
      const sampled: number[] = [];
      const confidences: number[] = [];
      try {
        const sequence = context.getSequence();
        const iterator = sequence.evaluateWithMetadata(
          prompt as Token[],
          { confidence: true },
          { temperature, topK: 0, topP: 1, minP: 0, seed: 11 },
        );
        for await (const { token, confidence } of iterator) {
          sampled.push(token as number);
          confidences.push(confidence!);
          if (sampled.length === 12) break;
        }
      } finally {
        await context.dispose();
        await model.dispose();
      }
      const policy = await NativePolicy.create({ modelPath, lora: { rank: 2, alpha: 4 }, gpu: "cpu" });
      try {
        const [trainer] = await policy.logprobs([{ tokens: [...prompt, ...sampled], completionStart: prompt.length }], {
          temperature,
        });
        const delta = confidences.map((p, i) => Math.abs(Math.log(p) - trainer![i]!));
        expect(delta.reduce((a, x) => a + x, 0) / delta.length).toBeLessThanOrEqual(1e-3);
        // At T = 1 the same tokens score differently: the temperature is really applied on both sides.
        const [atOne] = await policy.logprobs([{ tokens: [...prompt, ...sampled], completionStart: prompt.length }]);
        expect(confidences.some((p, i) => Math.abs(Math.log(p) - atOne![i]!) > 1e-2)).toBe(true);
      } finally {
        await policy.dispose();
      }
    },
    30_000,
  );
});
