/**
 * The native extension computes the same function however its products are computed (docs/native.md, "Speed and
 * memory"): f32 products through OpenBLAS's sgemm vs ggml's own CPU kernels, and the output head scored in chunks
 * of positions (its backward written out, the chunks' [V, m] tensors one at a time) vs all positions at once —
 * log-probs and gradients, with coefficients given and from a coefficient function, LoRA and every weight (the
 * tied head's weight gradient comes from the head and from the embedding lookup); finite differences with chunks.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel } from "../models/writeTinyModel.js";
import { gradientError, randomizeLoraB, sampleBatch, sampleCoefficients } from "./native/policyChecks.js";
import { NativePolicy, type NativePolicyOptions } from "./nativePolicy.js";
import type { TokenSequence } from "./policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "native-products-test-"));
const modelPath = join(dir, "tied.gguf");
// Wide enough that the layers' products pass the sgemm threshold (cpuBlas.cpp), not only the head's.
const dims = { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 128, tied: true };
let vocab = 0;
let batch: TokenSequence[] = [];
let coefficients: Float32Array[] = [];

beforeAll(async () => {
  vocab = (await writeTinyModel({ out: modelPath, seed: 5, initStd: 0.2, dims })).vocabSize;
  batch = sampleBatch(21, vocab, [
    [40, 22],
    [33, 12],
    [25, 20],
  ]);
  coefficients = sampleCoefficients(batch);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Computed {
  policy: NativePolicy;
  logprobs: Float32Array[];
  objective: number;
  grads: Map<string, Float32Array>;
}

/** One accumulateGradients of the shared batch (coefficients given, or the same ones from a function). */
async function compute(options: Partial<NativePolicyOptions>, viaFunction = false): Promise<Computed> {
  const policy = await NativePolicy.create({ modelPath, gpu: "cpu", lora: { rank: 4, alpha: 8, seed: 3 }, ...options });
  if (policy.trainable === "lora") randomizeLoraB(policy, 0.2);
  const { objective, logprobs } = await policy.accumulateGradients(
    batch,
    viaFunction ? () => coefficients : coefficients,
  );
  const grads = new Map(policy.trainableNames().map((name) => [name, policy.getGrad(name)]));
  return { policy, logprobs, objective, grads };
}

const relL2 = (a: Float32Array, b: Float32Array): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
};

/** Worst log-prob |Δ| and worst gradient rel-L2 between two computations of the same thing. */
function expectSame(a: Computed, b: Computed, logprobTolerance: number, gradTolerance: number): void {
  let worstLogprob = 0;
  for (const [i, row] of a.logprobs.entries()) {
    expect(row.length).toBe(b.logprobs[i]!.length);
    for (const [j, x] of row.entries()) worstLogprob = Math.max(worstLogprob, Math.abs(x - b.logprobs[i]![j]!));
  }
  expect(worstLogprob).toBeLessThanOrEqual(logprobTolerance);
  expect(a.objective).toBeCloseTo(b.objective, 4);
  expect([...a.grads.keys()]).toEqual([...b.grads.keys()]);
  let worstGrad = 0;
  for (const [name, grad] of a.grads) {
    expect(grad.some((x) => x !== 0)).toBe(true);
    worstGrad = Math.max(worstGrad, relL2(grad, b.grads.get(name)!));
  }
  expect(worstGrad).toBeLessThanOrEqual(gradTolerance);
}

async function disposeAll(...computed: Computed[]): Promise<void> {
  for (const c of computed) await c.policy.dispose();
}

describe("OpenBLAS products", () => {
  test("sgemm and ggml's kernels give the same log-probs and gradients (LoRA and every weight)", async () => {
    // Without OpenBLAS a frozen f32 head is multiplied through a stored f16 copy of its transpose (rounding 2⁻¹¹,
    // measured 5e-4 on these gradients); trained ("all") it is f32 on both paths.
    for (const [trainable, gradTolerance] of [
      ["lora", 2e-3],
      ["all", 1e-5],
    ] as const) {
      const blas = await compute({ trainable });
      const ggml = await compute({ trainable, cpuBlas: false });
      try {
        expect(ggml.policy.info().cpuBlas).toBeNull();
        // CI installs OpenBLAS (.ci/run); elsewhere a machine without it computes both with ggml's kernels.
        if (process.env.CI === "true") expect(blas.policy.info().cpuBlas).toMatch(/OpenBLAS/);
        expectSame(blas, ggml, 1e-5, gradTolerance);
      } finally {
        await disposeAll(blas, ggml);
      }
    }
  }, 60_000);
});

// Chunks change how the BLAS library blocks the head's product, so the sums run in another order. Log-probs here
// reach |log p| ≈ 9 (a 5,268-token vocabulary), where one f32 ulp is 9.5e-7: a bound of 1e-6 is one ulp and failed
// at 1.9e-6 with Debian's libopenblas0-openmp (another blocking than libopenblas0's). 1e-5 is ~10 ulps — any BLAS
// build's reordering of 128-long dot products and a 5k-term log-sum-exp — and a wrong chunk boundary still fails
// it by orders of magnitude (a misplaced position moves log-probs by > 1e-1).
const CHUNK_LOGPROB_TOLERANCE = 1e-5;

describe("the output head in chunks of positions", () => {
  test("chunks of 3 positions give the one-chunk log-probs and gradients, coefficients given or from a function", async () => {
    const whole = await compute({});
    const chunked = await compute({ headChunk: 3 });
    const viaFunction = await compute({ headChunk: 3 }, true);
    try {
      expect(whole.policy.info().headChunk).toBeGreaterThanOrEqual(45); // one chunk: 45 completion tokens
      expect(chunked.policy.info().headChunk).toBe(3);
      expectSame(chunked, whole, CHUNK_LOGPROB_TOLERANCE, 1e-5);
      expectSame(viaFunction, whole, CHUNK_LOGPROB_TOLERANCE, 1e-5);
    } finally {
      await disposeAll(whole, chunked, viaFunction);
    }
  }, 60_000);

  test("every weight trained: the tied head's gradient (head + embedding lookup) matches, and finite differences", async () => {
    const whole = await compute({ trainable: "all" });
    const chunked = await compute({ trainable: "all", headChunk: 4 });
    try {
      expectSame(chunked, whole, CHUNK_LOGPROB_TOLERANCE, 1e-5);
      let worst = 0;
      for (const name of ["token_embd.weight", "output_norm.weight", "blk.1.ffn_down.weight", "blk.0.attn_q.bias"]) {
        worst = Math.max(worst, await gradientError(chunked.policy, name, batch, coefficients, 3));
      }
      expect(worst).toBeLessThanOrEqual(1e-2);
    } finally {
      await disposeAll(whole, chunked);
    }
  }, 60_000);

  test("a negative chunk size is refused", async () => {
    await expect(NativePolicy.create({ modelPath, gpu: "cpu", headChunk: -1 })).rejects.toMatchObject({
      code: "native.input",
    });
  });
});
