/**
 * Repro for the Vulkan heap corruption of issue 21 (open): the native extension alone — no node-llama-cpp
 * sampling — trains GRPO-shaped batches (2 prompts × 4 completions, 30–50 prompt + 5–25 completion tokens) on
 * lavapipe and glibc aborts ("corrupted double-linked list", "double free or corruption (!prev)") within 1–4
 * iterations in most runs (3 of 3 with the defaults, 2026-12-06, ~7 s each). `GPU=cpu` never aborts. What did
 * not make it go away: no reference forward (NOREF=1), coefficients given instead of a function (FIXED=1),
 * sharePrompts never/always, one head chunk (OPTS='{"headChunk":1000}') — each still aborted in some runs.
 * Under gdb the abort is a later malloc inside ggml-vulkan's dispatch (ggml_vk_dispatch_pipeline → lavapipe
 * malloc); on lavapipe device memory is host heap, so the write that corrupts it came earlier — suspect a node of
 * the training graph writing past its buffer. The Khronos validation layer's GPU-assisted mode ran past 500 s
 * without a report. Next: an ASan build of the addon, and bisecting the graph (AdamW, the dX = Wᵀ·dY rewrite,
 * GET_ROWS_BACK) with this script.
 *
 * Run: GGML_VK_VISIBLE_DEVICES=0 N=4 npx tsx bench/vulkanTrainLoop.ts   (env: GPU=cpu, SAMPLE=1, NOREF=1, FIXED=1,
 * OPTS='<NativePolicy options JSON>')
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NativePolicy } from "../trainers/nativePolicy.js";
import { loadModel } from "../models/loadModel.js";
import { mulberry32 } from "../runtime/mulberry32.js";
const out = mkdtempSync(join(tmpdir(), "vulkan-train-loop-"));
const N = Number(process.env.N ?? 5);
const gpu = (process.env.GPU ?? "vulkan") as "vulkan" | "cpu";
const modelPath = "data/demo-model.gguf";
const model = process.env.SAMPLE
  ? await loadModel({ model: modelPath, gpu, kvCacheF32: true, sequences: 4, download: false, threads: 1 })
  : null;
const extra = JSON.parse(process.env.OPTS ?? "{}");
const policy = await NativePolicy.create({ modelPath, gpu, threads: 1, lora: { rank: 8, alpha: 16 }, ...extra });
console.error("device", policy.info().device);
const rand = mulberry32(1);
for (let it = 0; it < N; it++) {
  const batch = [];
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
  console.error("logprobs ref");
  if (!process.env.NOREF) await policy.logprobs(batch, { reference: true, temperature: 1 });
  console.error("accumulate");
  if (process.env.FIXED)
    await policy.accumulateGradients(
      batch,
      batch.map((b) => new Float32Array(b.tokens.length - b.completionStart).fill(-0.01)),
      { temperature: 1 },
    );
  else await policy.accumulateGradients(batch, (lp) => lp.map((r) => r.map(() => -0.01)), { temperature: 1 });
  console.error("step");
  await policy.step({ learningRate: 1e-3, maxGradNorm: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  await policy.saveWeights(join(out, `a-${it}.gguf`));
  console.error("iter", it);
}
await policy.dispose();
await model?.dispose();
console.error("done");
