/**
 * Where the time of one GRPO step goes, on the real stack (trainers/grpo/grpoRun.ts: node-llama-cpp sampler with
 * f32 KV cache, native LoRA policy, PGlite demo database, default weighted reward):
 *
 *   generation          sampleGroups: P prompts × G completions (one sequence each, batched decode; exactly
 *                       softmax(logits / T), no re-scoring of the completions — trainers/grpo/grpoRun.ts GRPO_SAMPLING)
 *   validation+exec     prepareRewardSamples: extract, parse/validate, execute on PGlite, compare with gold
 *   reward              the weighted reward functions
 *   forward-only log-probs  log-probs without a backward: the reference policy's (β > 0), one forward (before: π_old too)
 *   fwd+bwd+AdamW       μ × accumulateGradients (one forward + one backward; π_old is the first forward) + AdamW
 *   adapter swap        saveWeights (GGUF) + sampler.setAdapter (new context with the adapter)
 * It also counts the policy's passes per step (forward-only calls, forward+backward calls, sequences in them).
 * Scoring is NOT overlapped with generation here (overlapScoring: false), so each phase is timed alone.
 *
 * Models: the tiny demo-shaped model (d=128, 4 layers) and a 0.5B-shaped Qwen2 (d=896, 24 layers, 14 heads,
 * 2 KV heads, FFN 4864, tied, trimmed vocabulary) — both random weights written by writeTinyModel, no download.
 * `npx tsx bench/grpo.ts [--skip-large] [--skip-sampler] [--layers N] [--steps N] [--prompts P] [--group G]
 *  [--tokens T] [--threads N] [--sampler-threads N]` —
 * prints a Markdown table per model (mean over the timed steps, after one warm-up step) and names the bottleneck.
 *
 * Then the sampler alone (unless --skip-sampler) on the tiny model with the trimmed and with the full 151,936-token
 * Qwen2 vocabulary: one step's P × G completions of exactly T tokens (a random model never stops early) sampled
 * (a) as before: top-k = the vocabulary (a sort of the whole vocabulary per token) and re-scored afterwards,
 * (b) top-k = the vocabulary, not re-scored, (c) GRPO_SAMPLING: softmax(logits / T) unsorted, not re-scored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel, type TinyModelDims } from "../models/writeTinyModel.js";
import { openDatabase } from "../sql/openDatabase.js";
import { loadModel } from "../models/loadModel.js";
import type { CandidateOptions, GenerationParams } from "../models/textGenerator.js";
import { createGrpoSession, GRPO_SAMPLING } from "../trainers/grpo/grpoRun.js";
import { grpoStep } from "../trainers/grpo/grpoStep.js";
import type { PolicyBackend } from "../trainers/policyBackend.js";

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
  "forward-only log-probs",
  "fwd+bwd+AdamW",
  "adapter swap",
] as const;

/** The policy with its calls counted: forward-only (`logprobs`) and forward+backward (`accumulateGradients`). */
function countingPolicy(inner: PolicyBackend) {
  const counts = { forwardOnly: 0, forwardBackward: 0, sequences: 0 };
  const policy: PolicyBackend = {
    trainable: inner.trainable,
    logprobs: (batch, options) => {
      counts.forwardOnly += 1;
      counts.sequences += batch.length;
      return inner.logprobs(batch, options);
    },
    accumulateGradients: (batch, coefficients, options) => {
      counts.forwardBackward += 1;
      counts.sequences += batch.length;
      return inner.accumulateGradients(batch, coefficients as never, options);
    },
    step: (options) => inner.step(options),
    saveWeights: (path) => inner.saveWeights(path),
    saveCheckpoint: (path) => inner.saveCheckpoint(path),
    loadCheckpoint: (path) => inner.loadCheckpoint(path),
    dispose: () => inner.dispose(),
  };
  return { policy, counts };
}
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
  const { policy, counts } = countingPolicy(session.policy);
  let tokens = 0;
  let completionTokens = 0;
  try {
    for (let step = 0; step <= steps; step += 1) {
      const prompts = session.prompts.slice(step * promptsPerStep, (step + 1) * promptsPerStep);
      if (step === 1) Object.assign(counts, { forwardOnly: 0, forwardBackward: 0, sequences: 0 });
      const m = await grpoStep(
        step,
        prompts,
        { ...session.trainOptions(), policy, adapterPath: (s) => join(dir, `${label.length}-adapter-${s + 1}.gguf`) },
        session.config,
      );
      if (step === 0) continue; // warm-up
      const { prepareMs, rewardMs } = session.scorer.lastTimings;
      totals.generation += m.timings.sampleMs;
      totals["validation+exec"] += prepareMs;
      totals.reward += rewardMs;
      totals["forward-only log-probs"] += m.timings.logprobsMs;
      totals["fwd+bwd+AdamW"] += m.timings.updateMs;
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
  console.log(
    `policy passes per step: ${counts.forwardOnly / steps} forward-only + ${counts.forwardBackward / steps} forward+backward (${counts.sequences / steps} sequences in them)`,
  );
  const bottleneck = PHASES.reduce((a, p) => (totals[p] > totals[a] ? p : a), PHASES[0]);
  console.log(
    `bottleneck: ${bottleneck} (${((100 * totals[bottleneck]) / total).toFixed(0)} % of the step); ${(tokens / steps / (total / steps / 1000)).toFixed(0)} batch tokens/s end to end`,
  );
}

async function benchSampler(dir: string): Promise<void> {
  console.log(
    `\n### sampler alone: tiny model, ${promptsPerStep} prompts × G=${groupSize}, ${maxTokens} tokens each, sampler threads ${samplerThreads || "default"}, mean of ${steps} step(s) after 1 warm-up`,
  );
  console.log("| vocabulary | (a) top-k = V, re-scored | (b) top-k = V | (c) GRPO_SAMPLING |\n|---|---:|---:|---:|");
  for (const vocabulary of ["trimmed", "full"] as const) {
    const info = await writeTinyModel({ out: join(dir, `sampler-${vocabulary}.gguf`), seed: 1, vocabulary });
    const model = await loadModel({
      model: info.path,
      gpu: false,
      kvCacheF32: true,
      sequences: groupSize,
      ...(samplerThreads > 0 ? { threads: samplerThreads } : {}),
    });
    const modes: (Partial<GenerationParams> & CandidateOptions)[] = [
      { topK: info.vocabSize, topP: 1, minP: 0, repeatPenalty: 1 },
      { topK: info.vocabSize, topP: 1, minP: 0, repeatPenalty: 1, scoreLogprobs: false },
      GRPO_SAMPLING,
    ];
    const cells: string[] = [];
    try {
      for (const mode of modes) {
        let ms = 0;
        for (let step = 0; step <= steps; step += 1) {
          const t0 = performance.now();
          await Promise.all(
            Array.from({ length: promptsPerStep }, (_, k) =>
              model.generateCandidates({ text: `How many projects are in region ${k}?\nSQL:\n` }, groupSize, {
                ...mode,
                temperatures: new Array<number>(groupSize).fill(1),
                seeds: Array.from({ length: groupSize }, (_, i) => 100 * step + 10 * k + i),
                maxTokens,
              }),
            ),
          );
          if (step > 0) ms += performance.now() - t0;
        }
        const perStep = ms / steps;
        cells.push(
          `${perStep.toFixed(0)} ms (${((promptsPerStep * groupSize * maxTokens) / (perStep / 1000)).toFixed(0)} tok/s)`,
        );
      }
    } finally {
      await model.dispose();
    }
    console.log(`| ${vocabulary} (${info.vocabSize}) | ${cells.join(" | ")} |`);
  }
}

const dir = mkdtempSync(join(tmpdir(), "bench-grpo-"));
try {
  if (!argv.includes("--skip-sampler")) await benchSampler(dir);
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
