/**
 * What packing a GRPO group into one row saves: the G completions of a prompt computed after ONE forward of
 * the prompt (NativePolicy `sharePrompts`), against one row per completion, on GRPO-shaped batches.
 * `GL_RL_THREADS=2 npx tsx bench/promptSharing.ts [--layers N]` — prints a Markdown table; not a test.
 *
 * Rows: the tiny demo model with its question-only prompts (short prompt, long completions: packing barely
 * pays), and a 0.5B-shaped Qwen2 (`--layers`, default 2 of 24, full vocabulary) with a schema-aware prompt of
 * 600 tokens and completions of 64. Time = one accumulateGradients (forward + backward), median of 3 after a
 * warm-up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel } from "../models/writeTinyModel.js";
import { mulberry32 } from "../runtime/mulberry32.js";
import { defaultCpuThreads } from "../runtime/environment.js";
import { NativePolicy } from "../trainers/nativePolicy.js";
import type { TokenSequence } from "../trainers/policyBackend.js";

const argv = process.argv.slice(2);
const layersArg = argv.indexOf("--layers");
const layers = layersArg >= 0 ? Number(argv[layersArg + 1]) : 2;

function grpoBatch(
  vocab: number,
  prompts: number,
  group: number,
  promptTokens: number,
  completionTokens: number,
): TokenSequence[] {
  const random = mulberry32(1);
  const tokens = (n: number): number[] => Array.from({ length: n }, () => Math.floor(random() * vocab));
  return Array.from({ length: prompts }, () => tokens(promptTokens)).flatMap((prompt) =>
    Array.from({ length: group }, () => ({
      tokens: [...prompt, ...tokens(completionTokens)],
      completionStart: prompt.length,
    })),
  );
}

async function secondsPerCall(modelPath: string, batch: TokenSequence[], sharePrompts: "auto" | "always" | "never") {
  const policy = await NativePolicy.create({ modelPath, gpu: "cpu", sharePrompts, lora: { rank: 8, alpha: 16 } });
  const c = batch.map((s) => new Float32Array(s.tokens.length - s.completionStart).fill(-0.01));
  await policy.accumulateGradients(batch, c);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await policy.accumulateGradients(batch, c);
    times.push((performance.now() - t0) / 1000);
  }
  const { rows, rowTokens } = policy.info().lastBatch;
  await policy.dispose();
  return { seconds: times.sort((a, b) => a - b)[1]!, rows, rowTokens };
}

const dir = mkdtempSync(join(tmpdir(), "bench-shared-"));
const tiny = await writeTinyModel({ out: join(dir, "tiny.gguf"), seed: 1 });
const large = await writeTinyModel({
  out: join(dir, "large.gguf"),
  seed: 2,
  vocabulary: "full",
  dims: {
    ...DEFAULT_TINY_MODEL_DIMS,
    embedding: 896,
    layers,
    heads: 14,
    kvHeads: 2,
    ffn: 4864,
    context: 2048,
    tied: true,
  },
});
const cases = [
  {
    label: `tiny demo (d=${tiny.dims.embedding}), 4 prompts × 8, prompt 32 + completion 40`,
    path: tiny.path,
    batch: grpoBatch(tiny.vocabSize, 4, 8, 32, 40),
  },
  {
    label: `0.5B-shaped (${layers} layers), 2 prompts × 8, prompt 600 + completion 64`,
    path: large.path,
    batch: grpoBatch(large.vocabSize, 2, 8, 600, 64),
  },
];
console.log(`threads ${defaultCpuThreads()}; one accumulateGradients (forward + backward), median of 3`);
console.log("| batch | layout | rows × tokens | s/call | speed-up vs one row per sequence |\n|---|---|---|---:|---:|");
for (const { label, path, batch } of cases) {
  const never = await secondsPerCall(path, batch, "never");
  for (const [mode, r] of [
    ["one row per sequence", never],
    ["shared prompt (always)", await secondsPerCall(path, batch, "always")],
    ["auto", await secondsPerCall(path, batch, "auto")],
  ] as const) {
    console.log(
      `| ${label} | ${mode} | ${r.rows} × ${r.rowTokens} | ${r.seconds.toFixed(3)} | ${(never.seconds / r.seconds).toFixed(2)}× |`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
