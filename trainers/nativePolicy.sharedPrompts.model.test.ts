/**
 * GRPO's G completions of one prompt share the prompt's forward pass: sequences with identical
 * tokens[0:completionStart] are packed into one row (prompt once, then each completion; block-causal mask;
 * positions continue from the prompt in each completion). Log-probs and gradients must equal the unpacked
 * computation, and the packed gradients must match central finite differences.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mulberry32 } from "../runtime/mulberry32.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import { gradientError, randomizeLoraB } from "./native/policyChecks.js";
import { NativePolicy } from "./nativePolicy.js";
import type { TokenSequence } from "./policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "native-shared-test-"));
const modelPath = join(dir, "tiny.gguf");
let vocab = 0;

beforeAll(async () => {
  const dims = { embedding: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 128, tied: true };
  vocab = (await writeTinyModel({ out: modelPath, seed: 8, initStd: 0.3, dims })).vocabSize;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A GRPO-shaped batch: `prompts` prompts × `group` completions of different lengths, plus one loner. */
function grpoBatch(seed: number, prompts: number, group: number): TokenSequence[] {
  const random = mulberry32(seed);
  const tokens = (n: number): number[] => Array.from({ length: n }, () => Math.floor(random() * vocab));
  const batch: TokenSequence[] = [];
  for (let p = 0; p < prompts; p++) {
    const prompt = tokens(6 + 3 * p);
    for (let g = 0; g < group; g++)
      batch.push({ tokens: [...prompt, ...tokens(2 + ((g * 3 + p) % 5))], completionStart: prompt.length });
  }
  batch.splice(2, 0, { tokens: tokens(9), completionStart: 5 });
  return batch;
}

const coefficients = (batch: TokenSequence[]): Float32Array[] =>
  batch.map((s, b) =>
    Float32Array.from({ length: s.tokens.length - s.completionStart }, (_, t) => Math.sin(b + 0.7 * t)),
  );

async function policyFor(sharePrompts: "always" | "never"): Promise<NativePolicy> {
  const policy = await NativePolicy.create({ modelPath, sharePrompts, lora: { rank: 4, alpha: 8, seed: 3 } });
  randomizeLoraB(policy, 0.2);
  return policy;
}

describe("sequences that share a prompt share its forward pass", () => {
  test("packed log-probs and gradients equal the unpacked ones; packed gradients match finite differences", async () => {
    const batch = grpoBatch(5, 2, 4);
    const c = coefficients(batch);
    const packed = await policyFor("always");
    const plain = await policyFor("never");
    try {
      const a = await packed.accumulateGradients(batch, c, { temperature: 0.9 });
      expect(packed.info().lastBatch).toMatchObject({ sequences: 9, rows: 3 }); // 2 prompt rows + the loner
      const b = await plain.accumulateGradients(batch, c, { temperature: 0.9 });
      expect(plain.info().lastBatch).toMatchObject({ sequences: 9, rows: 9 });
      for (let s = 0; s < batch.length; s++) {
        expect(a.logprobs[s]!.length).toBe(batch[s]!.tokens.length - batch[s]!.completionStart);
        for (let t = 0; t < a.logprobs[s]!.length; t++)
          expect(Math.abs(a.logprobs[s]![t]! - b.logprobs[s]![t]!)).toBeLessThan(1e-5);
      }
      expect(Math.abs(a.objective - b.objective)).toBeLessThan(1e-4);
      for (const name of packed.trainableNames()) {
        const x = packed.getGrad(name);
        const y = plain.getGrad(name);
        expect(Math.hypot(...x.map((v, i) => v - y[i]!)) / Math.max(Math.hypot(...y), 1e-30)).toBeLessThan(1e-5);
      }
      // Central differences of the packed function (logprobs() packs too), at T = 1.
      packed.zeroGrad();
      await packed.accumulateGradients(batch, c);
      let worst = 0;
      for (const name of ["blk.0.attn_k.weight.lora_a", "blk.1.attn_q.weight.lora_b", "blk.1.ffn_down.weight.lora_a"]) {
        worst = Math.max(worst, await gradientError(packed, name, batch, c, 3));
      }
      expect(worst).toBeLessThanOrEqual(1e-2);
    } finally {
      await packed.dispose();
      await plain.dispose();
    }
  }, 60_000);

  test('"auto" packs when the prompt is long next to its completions, and not when the row would only grow', async () => {
    const policy = await NativePolicy.create({ modelPath, lora: { rank: 2, alpha: 4 } });
    try {
      const random = mulberry32(9);
      const tokens = (n: number): number[] => Array.from({ length: n }, () => Math.floor(random() * vocab));
      const longPrompt = tokens(60);
      await policy.logprobs(
        Array.from({ length: 8 }, () => ({ tokens: [...longPrompt, ...tokens(4)], completionStart: 60 })),
      );
      expect(policy.info().lastBatch.rows).toBe(1);
      const shortPrompt = tokens(2);
      await policy.logprobs(
        Array.from({ length: 8 }, () => ({ tokens: [...shortPrompt, ...tokens(60)], completionStart: 2 })),
      );
      expect(policy.info().lastBatch.rows).toBe(8);
    } finally {
      await policy.dispose();
    }
  }, 30_000);
});
