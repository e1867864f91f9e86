/**
 * What a new adapter costs per GRPO step on each sampler (docs/grpo.md "Rollout servers"): the three ways a step's
 * LoRA adapter reaches the model that samples the next step.
 *
 *   router     llama-server in router mode (trainers/rollouts/rolloutServers.ts): preset file rewritten, `GET
 *              /models?reload=1`, `POST /models/load`, polled until loaded — a new child llama-server per step
 *   restart    a plain llama-server restarted with `--lora <adapter>` until /health says ready (what a trainer that
 *              owns the server's process could do instead)
 *   in-process node-llama-cpp's LoadedModel.setAdapter (the default sampler: a new context with the adapter)
 *
 * Models: "demo" (the shipped tiny GGUF, r 8 adapter) and "0.5b" (Qwen2.5-0.5B's shape, random weights, q4_K, full
 * vocabulary, r 64 on the seven targets). Median of `--swaps` swaps, ms; then one greedy 16-token request on the
 * freshly swapped server (its decode: the swap left nothing to load).
 *
 * Then whole GRPO steps on the demo model (`--steps N`, default 6; 0 skips): the default config (G 8 × 4 prompts,
 * 128 tokens) in-process and with one llama-server router on the same machine (1 thread each, as the trainer's
 * defaults) — with its default f16 KV cache and with an f32 one — median ms per step by phase, and the
 * sampler/trainer log-prob gap the correction saw. `--shapes ""` runs the steps alone.
 *
 * `npx tsx bench/rolloutSwap.ts [--shapes demo,0.5b] [--swaps 3] [--steps 6]`
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../models/loadModel.js";
import { createLoraAdapter, loraTargetShapes, writeLoraAdapter } from "../models/loraAdapter.js";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel } from "../models/writeTinyModel.js";
import { DEMO_MODEL, startLlamaServer } from "../test/llamaServer.js";
import { quantizeModel } from "../trainers/native/quantizeModel.js";
import { openRolloutServers } from "../trainers/rollouts/rolloutServers.js";
import { runGrpo } from "../trainers/grpo/grpoRun.js";
import type { GrpoStepMetrics } from "../trainers/grpo/grpoStep.js";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const shapes = (option("--shapes") ?? "demo,0.5b").split(",").filter((s) => s.length > 0); // "" = steps only
const swaps = Number(option("--swaps") ?? 3);
const steps = Number(option("--steps") ?? 6);
const dir = mkdtempSync(join(tmpdir(), "gl-rl-rollout-swap-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[][] = [];
const stepRows: string[][] = [];

async function modelOf(shape: string): Promise<{ path: string; rank: number }> {
  if (shape === "demo") return { path: DEMO_MODEL, rank: 8 };
  if (shape !== "0.5b") throw new Error(`--shapes: unknown shape ${shape} (demo, 0.5b)`);
  const f32 = join(dir, "0.5b-f32.gguf");
  await writeTinyModel({
    out: f32,
    seed: 2,
    initStd: 0.02,
    dims: {
      ...DEFAULT_TINY_MODEL_DIMS,
      embedding: 896,
      layers: 24,
      heads: 14,
      kvHeads: 2,
      ffn: 4864,
      context: 4096,
      tied: true,
    },
    vocabulary: "full",
  });
  const path = join(dir, "0.5b-q4_K.gguf");
  await quantizeModel(f32, path, "q4_K");
  rmSync(f32);
  return { path, rank: 64 };
}

try {
  for (const shape of shapes) {
    const { path, rank } = await modelOf(shape);
    const targets = loraTargetShapes(path);
    const adapters = Array.from({ length: swaps }, (_, k) => {
      const file = join(dir, `${shape}-adapter-${k + 1}.gguf`);
      writeLoraAdapter(file, createLoraAdapter({ rank, alpha: 2 * rank, targets, seed: k + 1, bStd: 0.01 }));
      return file;
    });
    const prompt = { text: "How many projects are there?\nSQL:\n" };

    // router
    const preset = join(dir, `${shape}.ini`);
    writeFileSync(preset, "");
    const router = await startLlamaServer({ preset });
    try {
      const servers = await openRolloutServers({ urls: [router.url], presetPath: preset, baseModel: path });
      await servers.setAdapter(null);
      const reload: number[] = [];
      const load: number[] = [];
      const first: number[] = [];
      for (const adapter of adapters) {
        await servers.setAdapter(adapter);
        reload.push(servers.lastSwap.reloadMs);
        load.push(servers.lastSwap.loadMs);
        const t0 = performance.now();
        await servers.generator().generate(prompt, { temperature: 0, maxTokens: 16 });
        first.push(performance.now() - t0);
      }
      rows.push([
        shape,
        "router",
        (median(reload) + median(load)).toFixed(0),
        `reload ${median(reload).toFixed(0)} + load ${median(load).toFixed(0)}; then a greedy 16-token request ${median(first).toFixed(0)} ms`,
      ]);
    } finally {
      await router.stop();
    }

    // restart
    const restart: number[] = [];
    for (const adapter of adapters) {
      const t0 = performance.now();
      const server = await startLlamaServer({ model: path, args: ["--lora", adapter] });
      restart.push(performance.now() - t0);
      await server.stop();
    }
    rows.push([shape, "restart", median(restart).toFixed(0), "spawn → /health 200 (stop not counted)"]);

    // in-process
    const model = await loadModel({ model: path, kvCacheF32: true, sequences: 8, download: false });
    try {
      const swap: number[] = [];
      for (const adapter of adapters) {
        const t0 = performance.now();
        await model.setAdapter(adapter);
        swap.push(performance.now() - t0);
      }
      rows.push([shape, "in-process", median(swap).toFixed(0), "LoadedModel.setAdapter, 8 sequences, f32 KV"]);
    } finally {
      await model.dispose();
    }
  }
  if (steps > 0) {
    // The router twice: llama-server's default f16 KV cache, and an f32 one (the in-process sampler's).
    const arms = [
      ["in-process", null],
      ["router", []],
      ["router, f32 KV", ["--cache-type-k", "f32", "--cache-type-v", "f32"]],
    ] as const;
    for (const [name, args] of arms) {
      const preset = join(dir, "steps.ini");
      writeFileSync(preset, "");
      const router = args === null ? null : await startLlamaServer({ preset, args: [...args] });
      try {
        const metrics: GrpoStepMetrics[] = [];
        await runGrpo(
          {
            model: DEMO_MODEL,
            maxSteps: steps,
            evalEvery: 0,
            evalLimit: 1,
            checkpointEvery: 0,
            outDir: join(dir, `steps-${name.replace(/\W+/g, "-")}`),
            ...(router ? { rolloutUrls: [router.url], rolloutPreset: preset } : {}),
          },
          { onStep: (m) => metrics.push(m) },
        );
        const phase = (key: keyof GrpoStepMetrics["timings"]) => median(metrics.map((m) => m.timings[key])).toFixed(0);
        const total = median(metrics.map((m) => Object.values(m.timings).reduce((a, b) => a + b, 0)));
        const gap = metrics.map((m) => m.sampling?.logpDiffMean ?? 0);
        stepRows.push([
          name,
          total.toFixed(0),
          phase("sampleMs"),
          phase("rewardMs"),
          phase("logprobsMs"),
          phase("updateMs"),
          phase("swapMs"),
          router
            ? `${(gap.reduce((a, b) => a + b, 0) / gap.length).toExponential(1)} (${Math.max(...gap).toExponential(1)}) / ${Math.min(...metrics.map((m) => m.sampling!.ratioMin)).toFixed(3)}–${Math.max(...metrics.map((m) => m.sampling!.ratioMax)).toFixed(3)}`
            : "—",
        ]);
      } finally {
        await router?.stop();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log("| model | sampler | ms per step | notes |");
console.log("|---|---|---:|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
if (stepRows.length > 0) {
  console.log(`\nGRPO steps on the demo model (default config, median of ${steps} steps, ms):\n`);
  console.log(
    "| sampler | step | sample | reward | ref logprobs | update | swap | mean Δlogp (worst step), ratio range |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---|");
  for (const row of stepRows) console.log(`| ${row.join(" | ")} |`);
}
