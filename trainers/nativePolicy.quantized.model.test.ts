/**
 * Training on quantized base weights that stay quantized (no f32 copy of the model): f16, q8_0, q4_0, q5_0 and
 * the k-quants Qwen GGUFs ship in (q4_K, q5_K, q6_K, the q4_K_M mix). The forward is llama.cpp's own function
 * (ggml's quantized mul_mat, which rounds its input to 8 bits): log-probs match node-llama-cpp's on the same
 * file + adapter. That rounding makes the function piecewise constant in the LoRA weights — central differences
 * of it measure the rounding (rel-L2 0.4–3 measured), not a gradient — so the gradient (dX = Wᵀ·dY through the
 * stored quantized transpose) is checked against the same weights dequantized to f32: that smooth function's
 * gradient matches its central differences, and the quantized policy's gradient is within 10 % of it (the
 * activation rounding of the quantized forward; measured 0.2–8 %). docs/native.md, "Quantized weights".
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GGML_TYPE, readGguf, writeGguf } from "../models/ggufFile.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import {
  gradientError,
  llamaLogprobs,
  meanAbsDelta,
  randomizeLoraB,
  sampleBatch,
  sampleCoefficients,
} from "./native/policyChecks.js";
import { type QuantRecipe, quantizeModel } from "./native/quantizeModel.js";
import { NativePolicy } from "./nativePolicy.js";

const dir = mkdtempSync(join(tmpdir(), "native-quantized-test-"));
const narrow = join(dir, "narrow-f32.gguf"); // rows of 32: q8_0, q4_0, q5_0, f16
const wide = join(dir, "wide-f32.gguf"); // rows of 256: k-quants
let vocab = 0;

beforeAll(async () => {
  const common = { layers: 2, heads: 4, kvHeads: 2, context: 64, tied: false };
  vocab = (await writeTinyModel({ out: narrow, seed: 4, initStd: 0.05, dims: { ...common, embedding: 32, ffn: 64 } }))
    .vocabSize;
  await writeTinyModel({ out: wide, seed: 4, initStd: 0.05, dims: { ...common, embedding: 256, ffn: 512 } });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same weights dequantized (by ggml, read back through the policy) into an f32 GGUF: the f32 reference. */
async function dequantizedCopy(quantized: string, policy: NativePolicy): Promise<string> {
  const source = readGguf(quantized, { data: false });
  const out = join(dir, `dequantized-${source.tensors.length}-${Date.now()}.gguf`);
  writeGguf(out, {
    metadata: source.metadata,
    tensors: source.tensors.map((t) => ({ ...t, type: GGML_TYPE.F32, data: policy.getTensor(t.name) })),
  });
  return out;
}

const cases: [QuantRecipe, string, string][] = [
  ["f16", narrow, "f16"],
  ["q8_0", narrow, "q8_0"],
  ["q4_0", narrow, "q4_0"],
  ["q5_0", narrow, "q5_0"],
  ["q4_K", wide, "q4_K"],
  ["q5_K", wide, "q5_K"],
  ["q6_K", wide, "q6_K"],
  ["q4_K_M", wide, "q4_K"],
];

describe("NativePolicy on quantized weights", () => {
  test.each(cases)(
    "%s: held quantized; log-probs = node-llama-cpp's; gradients = those of the same weights in f32",
    async (recipe, source, heldType) => {
      const path = join(dir, `${recipe}.gguf`);
      const { types } = await quantizeModel(source, path, recipe);
      const batch = sampleBatch(31, vocab);
      const c = sampleCoefficients(batch);
      const adapter = join(dir, `${recipe}-adapter.gguf`);
      const policy = await NativePolicy.create({ modelPath: path, gpu: "cpu", lora: { rank: 4, alpha: 8, seed: 2 } });
      let reference: string;
      let ours: Float32Array[];
      const grads = new Map<string, Float32Array>();
      try {
        // No f32 copy: every matrix is held in its file type (vectors are f32 in the file too).
        expect(policy.info().weightTypes).toEqual(types);
        expect(policy.info().weightTypes[heldType]).toBeGreaterThan(0);
        randomizeLoraB(policy, 0.3);
        ours = await policy.logprobs(batch);
        await policy.saveWeights(adapter);
        await policy.accumulateGradients(batch, c);
        for (const name of policy.trainableNames()) grads.set(name, policy.getGrad(name));
        reference = await dequantizedCopy(path, policy);
      } finally {
        await policy.dispose();
      }
      // llama.cpp repacks q4_K for its CPU kernels (another rounding of the activations): 5e-3 measured.
      const parity = meanAbsDelta(await llamaLogprobs(path, batch, { adapter }), ours);
      expect(parity).toBeLessThanOrEqual(recipe.includes("K") ? 1e-2 : 1e-3);

      const f32 = await NativePolicy.create({ modelPath: reference, gpu: "cpu", lora: { initPath: adapter } });
      try {
        await f32.accumulateGradients(batch, c);
        let fd = 0;
        for (const name of f32.trainableNames().filter((n) => n.startsWith("blk.1."))) {
          fd = Math.max(fd, await gradientError(f32, name, batch, c, 2));
        }
        expect(fd).toBeLessThanOrEqual(1e-2);
        let worst = 0;
        for (const [name, g] of grads) {
          const r = f32.getGrad(name);
          worst = Math.max(worst, Math.hypot(...g.map((x, i) => x - r[i]!)) / Math.max(Math.hypot(...r), 1e-30));
        }
        expect(worst).toBeLessThanOrEqual(0.1);
      } finally {
        await f32.dispose();
      }
    },
    60_000,
  );
});
