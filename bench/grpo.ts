/**
 * Where the time of one GRPO step goes, on the real stack (trainers/grpoRun.ts: node-llama-cpp sampler with
 * f32 KV cache, native LoRA policy, PGlite demo database, default weighted reward):
 *
 *   generation          sampleGroups: P prompts × G completions (one sequence each, batched decode)
 *   validation+exec     prepareRewardSamples: extract, parse/validate, execute on PGlite, compare with gold
 *   reward              the weighted reward functions
 *   log-probs           old (current θ) and reference (LoRA off) log-probs of the batch
 *   backward+update     accumulateGradients (forward + backward) + AdamW step
 *   adapter swap        saveWeights (GGUF) + sampler.setAdapter (new context with the adapter)
 * Scoring is NOT overlapped with generation here (overlapScoring: false), so each phase is timed alone.
 *
 * Models: the tiny demo-shaped model (d=128, 4 layers) and a 0.5B-shaped Qwen2 (d=896, 24 layers, 14 heads,
 * 2 KV heads, FFN 4864, tied, trimmed vocabulary) — both random weights written by writeTinyModel, no download.
 * `npx tsx bench/grpo.ts [--skip-large] [--layers N] [--steps N] [--prompts P] [--group G] [--tokens T]
 *  [--threads N] [--sampler-threads N]` —
 * prints a Markdown table per model (mean over the timed steps, after one warm-up step) and names the bottleneck.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel, type TinyModelDims } from "../models/writeTinyModel.js";
import { openDatabase } from "../sql/openDatabase.js";
import { createGrpoSession } from "../trainers/grpoRun.js";
import { grpoStep } from "../trainers/grpoStep.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const steps = flag("--steps", 2);
const promptsPerStep = flag("--prompts", 2);
const groupSize = flag("--group", 4);
const maxTokens = flag("--tokens", 32);
/** ggml threads of the policy and of the sampler (0 = their defaults: physical cores / 1). */
const threads = flag("--threads", 0);
const samplerThreads = flag("--sampler-threads", 1);

const PHASES = [
  "generation",
  "validation+exec",
  "reward",
  "log-probs (old+ref)",
  "backward+update",
  "adapter swap",
] as const;
type Phase = (typeof PHASES)[number];

async function benchModel(label: string, dims: Partial<TinyModelDims>, dir: string): Promise<void> {
  const t0 = performance.now();
  const info = await writeTinyModel({ out: join(dir, `${label.replace(/\W+/g, "-")}.gguf`), seed: 1, dims });
  const writeS = (performance.now() - t0) / 1000;
  const executor = await openDatabase("demo");
  const session = await createGrpoSession(
    {
      model: info.path,
      groupSize,
      promptsPerStep,
      maxCompletionTokens: maxTokens,
      temperature: 1,
      beta: 0.04,
      evalEvery: 0,
      outDir: join(dir, "run"),
      overlapScoring: false,
      threads,
      samplerThreads,
    },
    { executor },
  );
  const totals = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let tokens = 0;
  let completionTokens = 0;
  try {
    for (let step = 0; step <= steps; step += 1) {
      const prompts = session.prompts.slice(step * promptsPerStep, (step + 1) * promptsPerStep);
      const m = await grpoStep(
        step,
        prompts,
        { ...session.trainOptions(), adapterPath: (s) => join(dir, `${label.length}-adapter-${s + 1}.gguf`) },
        session.config,
      );
      if (step === 0) continue; // warm-up
      const { prepareMs, rewardMs } = session.scorer.lastTimings;
      totals.generation += m.timings.sampleMs;
      totals["validation+exec"] += prepareMs;
      totals.reward += rewardMs;
      totals["log-probs (old+ref)"] += m.timings.logprobsMs;
      totals["backward+update"] += m.timings.updateMs;
      totals["adapter swap"] += m.timings.swapMs;
      completionTokens += m.completionLengthMean * promptsPerStep * groupSize;
      tokens +=
        prompts.reduce((a, p) => a + p.promptTokens.length * groupSize, 0) +
        m.completionLengthMean * promptsPerStep * groupSize;
    }
  } finally {
    await session.dispose();
    await executor.close();
  }
  const total = PHASES.reduce((a, p) => a + totals[p], 0);
  const d = { ...DEFAULT_TINY_MODEL_DIMS, ...dims };
  console.log(
    `\n### ${label}: d=${d.embedding}, ${d.layers} layers, ${d.heads}/${d.kvHeads} heads, FFN ${d.ffn}, vocab ${info.vocabSize}, ${(info.parameters / 1e6).toFixed(1)}M params (written in ${writeS.toFixed(1)} s)`,
  );
  console.log(
    `threads: policy ${session.config.threads || "default"}, sampler ${session.config.samplerThreads || "default"}`,
  );
  console.log(
    `batch: ${promptsPerStep} prompts × G=${groupSize}, ≤ ${maxTokens} completion tokens (mean ${(completionTokens / steps / promptsPerStep / groupSize).toFixed(1)}), ${steps} timed step(s) after 1 warm-up`,
  );
  console.log("| phase | ms/step | share |\n|---|---:|---:|");
  for (const p of PHASES)
    console.log(`| ${p} | ${(totals[p] / steps).toFixed(0)} | ${((100 * totals[p]) / total).toFixed(1)} % |`);
  console.log(`| **total** | ${(total / steps).toFixed(0)} | 100 % |`);
  const bottleneck = PHASES.reduce((a, p) => (totals[p] > totals[a] ? p : a), PHASES[0]);
  console.log(
    `bottleneck: ${bottleneck} (${((100 * totals[bottleneck]) / total).toFixed(0)} % of the step); ${(tokens / steps / (total / steps / 1000)).toFixed(0)} batch tokens/s end to end`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "bench-grpo-"));
try {
  await benchModel("tiny demo-shaped", { ...DEFAULT_TINY_MODEL_DIMS }, dir);
  if (!argv.includes("--skip-large")) {
    await benchModel(
      "0.5B-shaped Qwen2",
      { embedding: 896, layers: flag("--layers", 24), heads: 14, kvHeads: 2, ffn: 4864, context: 1024, tied: true },
      dir,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
