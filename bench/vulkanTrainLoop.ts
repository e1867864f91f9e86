/**
 * The repro of the lavapipe heap corruption of issue 21 (docs/native.md, "Lavapipe and stale descriptors"): the
 * native extension alone, GRPO-shaped batches (2 prompts × 4 completions, 30–50 prompt + 5–25 completion tokens),
 * each iteration running the calls MODE names in order:
 *   ref    log-probs of the reference (no LoRA: a forward graph smaller than training's)
 *   pol    log-probs of the policy
 *   fixed  accumulateGradients with coefficients given
 *   fn     accumulateGradients with a coefficient function (computed from the same forward)
 *   step   one AdamW step and an adapter written
 * Before the fix, `MODE=ref+fixed` aborted ("double free or corruption (!prev)", "corrupted double-linked list")
 * in the first training call in 3 of 3 runs, `ref`, `pol`, `fixed` or `fn` alone never: the compute buffer grown
 * between the reference forward and the training graph is freed while ggml-vulkan's reused descriptor sets still
 * name it, and lavapipe takes a reference on it. `GLRL_FRESH_CONTEXT=0` turns the fix off and shows the abort.
 * Prints "done" at the end; trainers/nativePolicy.vulkanGrpo.model.test.ts runs it.
 *
 * Run: GGML_VK_VISIBLE_DEVICES=0 MODE=ref+fixed N=4 npx tsx bench/vulkanTrainLoop.ts
 * (env: MODE (default ref+fn+step), N iterations (default 4), GPU=cpu, SAMPLE=1 (node-llama-cpp samples on the
 * same device between iterations), OPTS='<NativePolicy options JSON>')
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../models/loadModel.js";
import { mulberry32 } from "../runtime/mulberry32.js";
import { NativePolicy } from "../trainers/nativePolicy.js";

const out = mkdtempSync(join(tmpdir(), "vulkan-train-loop-"));
const N = Number(process.env.N ?? 4);
const modes = (process.env.MODE ?? "ref+fn+step").split("+");
const gpu = (process.env.GPU ?? "vulkan") as "vulkan" | "cpu";
const modelPath = "data/demo-model.gguf";
const model = process.env.SAMPLE
  ? await loadModel({ model: modelPath, gpu, kvCacheF32: true, sequences: 4, download: false, threads: 1 })
  : null;
const extra = JSON.parse(process.env.OPTS ?? "{}");
const policy = await NativePolicy.create({ modelPath, gpu, threads: 1, lora: { rank: 8, alpha: 16 }, ...extra });
console.error("device", policy.info().device);
const rand = mulberry32(1);
type Sequence = { tokens: number[]; completionStart: number };
const calls: Record<string, (batch: Sequence[], it: number) => Promise<unknown>> = {
  ref: (batch) => policy.logprobs(batch, { reference: true, temperature: 1 }),
  pol: (batch) => policy.logprobs(batch, { reference: false, temperature: 1 }),
  fixed: (batch) =>
    policy.accumulateGradients(
      batch,
      batch.map((b) => new Float32Array(b.tokens.length - b.completionStart).fill(-0.01)),
      { temperature: 1 },
    ),
  fn: (batch) => policy.accumulateGradients(batch, (lp) => lp.map((r) => r.map(() => -0.01)), { temperature: 1 }),
  step: async (_batch, it) => {
    await policy.step({ learningRate: 1e-3, maxGradNorm: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    await policy.saveWeights(join(out, `a-${it}.gguf`));
  },
};
for (const m of modes) if (!calls[m]) throw new Error(`MODE: unknown call "${m}" (ref, pol, fixed, fn, step)`);
for (let it = 0; it < N; it++) {
  const batch: Sequence[] = [];
  for (let p = 0; p < 2; p++) {
    const prompt = Array.from({ length: 30 + Math.floor(rand() * 20) }, () => 1 + Math.floor(rand() * 900));
    for (let g = 0; g < 4; g++) {
      const c = Array.from({ length: 5 + Math.floor(rand() * 20) }, () => 1 + Math.floor(rand() * 900));
      batch.push({ tokens: [...prompt, ...c], completionStart: prompt.length });
    }
  }
  if (model) {
    await Promise.all(
      [0, 1, 2, 3].map((g) =>
        model.generate({ text: "list the accounts" }, { maxTokens: 24, seed: it * 4 + g, temperature: 1 }),
      ),
    );
  }
  for (const m of modes) {
    console.error(`iter ${it}: ${m}`);
    await calls[m]!(batch, it);
  }
}
await policy.dispose();
await model?.dispose();
rmSync(out, { recursive: true, force: true });
console.error("done");
