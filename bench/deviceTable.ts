/**
 * The device run's table (gpukit/run.sh, docs/native.md "The GPU kit"): training throughput and peak device memory
 * of the native extension on random-weight Qwen2 models, beside PyTorch + peft on the same shapes
 * (gpukit/torchBaseline.py reads the same plan).
 *
 *   node dist/bench/deviceTable.js --prepare <dir> --size large|tiny
 *       writes the models (f32 with the full Qwen2 vocabulary, then q4_K and f16 copies) and <dir>/plan.json;
 *       large: 0.5B- and 1.5B-shaped Qwen2, 8 × 512 tokens; tiny (cpu and vulkan modes): d 64, 2 layers, 8 × 64.
 *   node dist/bench/deviceTable.js --run <dir> --gpu cuda|vulkan|cpu --seconds S --out rows.jsonl
 *       for each (shape, base, LoRA rank, dropout): one warm-up training call, then calls until its share of S is
 *       spent; one JSON row each: tokens/s (forward + backward of the LoRA objective, prompts not shared), peak
 *       device memory in use (MiB), seconds. Rows left when time runs out are written as { skipped: "no time" }.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32 } from "../runtime/mulberry32.js";
import { quantizeModel } from "../trainers/native/quantizeModel.js";
import { NativePolicy, type PolicyDevice } from "../trainers/nativePolicy.js";
import { writeTinyModel } from "../models/writeTinyModel.js";

export interface TablePlan {
  size: "large" | "tiny";
  sequences: number;
  tokens: number;
  shapes: { name: string; dims: Record<string, number>; vocab: number; files: Record<"f16" | "q4_K", string> }[];
  ranks: number[];
  dropouts: number[];
}

const SHAPES = {
  large: [
    { name: "qwen2-0.5b", dims: { embedding: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864, context: 1024 } },
    { name: "qwen2-1.5b", dims: { embedding: 1536, layers: 28, heads: 12, kvHeads: 2, ffn: 8960, context: 1024 } },
  ],
  tiny: [{ name: "tiny-d64", dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 } }],
} as const;

async function prepare(dir: string, size: "large" | "tiny"): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const plan: TablePlan = {
    size,
    sequences: 8,
    tokens: size === "large" ? 512 : 64,
    shapes: [],
    ranks: [16, 64],
    dropouts: [0, 0.1],
  };
  for (const shape of SHAPES[size]) {
    const f32 = join(dir, `${shape.name}-f32.gguf`);
    const { vocabSize } = await writeTinyModel({
      out: f32,
      seed: 7,
      initStd: 0.02,
      dims: { ...shape.dims, tied: true },
      vocabulary: size === "large" ? "full" : "trimmed",
    });
    const files = { f16: join(dir, `${shape.name}-f16.gguf`), q4_K: join(dir, `${shape.name}-q4_K.gguf`) };
    for (const [type, file] of Object.entries(files)) await quantizeModel(f32, file, type as "f16" | "q4_K");
    plan.shapes.push({ name: shape.name, dims: { ...shape.dims }, vocab: vocabSize, files });
    console.error(`deviceTable: ${shape.name} written (vocabulary ${vocabSize})`);
  }
  writeFileSync(join(dir, "plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
}

async function runTable(dir: string, gpu: PolicyDevice, seconds: number, out: string): Promise<void> {
  const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as TablePlan;
  const rows: { shape: TablePlan["shapes"][number]; base: "f16" | "q4_K"; rank: number; dropout: number }[] = [];
  for (const shape of plan.shapes)
    for (const base of ["q4_K", "f16"] as const)
      for (const rank of plan.ranks) for (const dropout of plan.dropouts) rows.push({ shape, base, rank, dropout });
  const deadline = performance.now() + seconds * 1000;
  const rand = mulberry32(11);
  for (let i = 0; i < rows.length; i++) {
    const { shape, base, rank, dropout } = rows[i]!;
    const key = { model: shape.name, base, rank, dropout, sequences: plan.sequences, tokens: plan.tokens };
    const left = deadline - performance.now();
    if (left < 5000) {
      appendFileSync(out, `${JSON.stringify({ ...key, skipped: "no time" })}\n`);
      continue;
    }
    const budget = left / (rows.length - i);
    const started = performance.now();
    let policy: NativePolicy | null = null;
    try {
      policy = await NativePolicy.create({
        modelPath: shape.files[base],
        gpu,
        lora: { rank, alpha: rank * 2, dropout, seed: 1 },
        sharePrompts: "never",
      });
      const batch = Array.from({ length: plan.sequences }, () => ({
        tokens: Array.from({ length: plan.tokens }, () => 1 + Math.floor(rand() * (shape.vocab - 2))),
        completionStart: plan.tokens / 2,
      }));
      const coefficients = batch.map(() => new Float32Array(plan.tokens / 2).fill(-1 / (plan.sequences * plan.tokens)));
      let peak = 0;
      const call = async () => {
        await policy!.accumulateGradients(batch, coefficients);
        peak = Math.max(peak, policy!.info().deviceMemory?.usedMiB ?? 0);
      };
      await call(); // warm-up: shader compilation, first allocations
      let calls = 0;
      const timed = performance.now();
      do {
        await call();
        calls++;
      } while (performance.now() - started < budget && calls < 20);
      const s = (performance.now() - timed) / 1000;
      const row = {
        ...key,
        device: policy.info().device,
        tokensPerSecond: (calls * plan.sequences * plan.tokens) / s,
        peakDeviceMiB: gpu === "cpu" ? null : peak,
        calls,
        seconds: s,
      };
      appendFileSync(out, `${JSON.stringify(row)}\n`);
      console.error(`deviceTable: ${JSON.stringify(row)}`);
    } catch (error) {
      appendFileSync(
        out,
        `${JSON.stringify({ ...key, error: error instanceof Error ? error.message : String(error) })}\n`,
      );
    } finally {
      await policy?.dispose();
    }
  }
}

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const prepareDir = option("--prepare");
const runDir = option("--run");
if (prepareDir) {
  await prepare(prepareDir, (option("--size") ?? "tiny") as "large" | "tiny");
} else if (runDir) {
  if (!existsSync(join(runDir, "plan.json"))) throw new Error(`${runDir}/plan.json is missing: run --prepare first`);
  const out = option("--out") ?? join(runDir, "rows.jsonl");
  writeFileSync(out, "");
  await runTable(runDir, (option("--gpu") ?? "cpu") as PolicyDevice, Number(option("--seconds") ?? 60), out);
} else {
  console.error("usage: deviceTable --prepare <dir> --size large|tiny | --run <dir> --gpu <mode> --seconds S --out F");
  process.exit(2);
}
