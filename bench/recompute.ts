/**
 * Activation recompute (docs/native.md, "Activation recompute"): the compute buffer of one LoRA training call with
 * and without `recompute`, on Qwen2-shaped models with random weights (q4_K base, full Qwen2 vocabulary, LoRA r 64
 * on the seven targets, one sequence per row, half of it completion), and the gradients of both (must be equal).
 * Prints one table: tokens, compute buffer MiB (and per token), seconds.
 *
 * `npx tsx bench/recompute.ts [--shapes 0.5b,1.5b] [--tokens 256,1024] [--threads 2]`
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel } from "../models/writeTinyModel.js";
import { mulberry32 } from "../runtime/mulberry32.js";
import { quantizeModel } from "../trainers/native/quantizeModel.js";
import { NativePolicy } from "../trainers/nativePolicy.js";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const SHAPES: Record<string, { embedding: number; layers: number; heads: number; kvHeads: number; ffn: number }> = {
  "0.5b": { embedding: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864 },
  "1.5b": { embedding: 1536, layers: 28, heads: 12, kvHeads: 2, ffn: 8960 },
};
const shapes = (option("--shapes") ?? "0.5b").split(",");
const tokenCounts = (option("--tokens") ?? "256,1024").split(",").map(Number);
const threads = Number(option("--threads") ?? 2);
const dir = mkdtempSync(join(tmpdir(), "gl-rl-recompute-"));
const rows: string[] = [];
try {
  for (const name of shapes) {
    const shape = SHAPES[name];
    if (!shape) throw new Error(`--shapes: unknown shape ${name} (${Object.keys(SHAPES).join(", ")})`);
    const f32 = join(dir, `${name}-f32.gguf`);
    const { vocabSize } = await writeTinyModel({
      out: f32,
      seed: 2,
      initStd: 0.02,
      dims: { ...DEFAULT_TINY_MODEL_DIMS, ...shape, context: 4096, tied: true },
      vocabulary: "full",
    });
    const path = join(dir, `${name}-q4_K.gguf`);
    await quantizeModel(f32, path, "q4_K");
    rmSync(f32);
    for (const tokens of tokenCounts) {
      const rand = mulberry32(tokens);
      const per = Math.min(tokens, 512);
      const batch = Array.from({ length: Math.ceil(tokens / per) }, () => ({
        tokens: Array.from({ length: per }, () => 1 + Math.floor(rand() * (vocabSize - 2))),
        completionStart: per / 2,
      }));
      const c = batch.map(() => new Float32Array(per / 2).fill(-1 / tokens));
      const results: { mib: number; s: number; grad: Float32Array }[] = [];
      for (const recompute of [false, true]) {
        const policy = await NativePolicy.create({
          modelPath: path,
          threads,
          recompute,
          sharePrompts: "never",
          lora: { rank: 64, alpha: 128, seed: 1 },
        });
        try {
          const t0 = performance.now();
          await policy.accumulateGradients(batch, c);
          const s = (performance.now() - t0) / 1000;
          results.push({ mib: policy.info().computeBufferMiB, s, grad: policy.getGrad("blk.0.attn_q.weight.lora_a") });
        } finally {
          await policy.dispose();
        }
      }
      const [off, on] = results as [(typeof results)[0], (typeof results)[0]];
      const delta = Math.hypot(...on.grad.map((x, i) => x - off.grad[i]!)) / Math.max(Math.hypot(...off.grad), 1e-30);
      rows.push(
        `| ${name} | ${tokens} | ${off.mib.toFixed(0)} (${((off.mib / tokens) * 1024).toFixed(0)} KiB/token) | ${on.mib.toFixed(0)} (${((on.mib / tokens) * 1024).toFixed(0)} KiB/token) | ${off.s.toFixed(1)} / ${on.s.toFixed(1)} | ${delta.toExponential(1)} |`,
      );
      console.error(rows.at(-1));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  "| shape (q4_K, LoRA r 64) | tokens | compute buffer, MiB | with recompute, MiB | s (off / on) | grad rel Δ |",
);
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
