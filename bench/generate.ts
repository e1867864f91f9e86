/**
 * Generation throughput on the tiny model (CPU): 1 candidate vs N = 8, parallel on one context (one
 * sequence per candidate, shared batches) vs sequential. `npx tsx bench/generate.ts [model.gguf]`
 * (default: writes the demo-sized tiny model to a temp dir). Prints a table; never part of the tests.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../models/loadModel.js";
import { buildPrompt } from "../models/promptTemplates.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import type { Completion } from "../models/textGenerator.js";

const N = 8;
const MAX_TOKENS = 64;
const REPEATS = 3;

const modelPath =
  process.argv[2] ??
  (await writeTinyModel({ out: join(mkdtempSync(join(tmpdir(), "bench-")), "tiny.gguf"), seed: 1, initStd: 0.5 })).path;
const model = await loadModel({
  model: modelPath,
  gpu: process.env.GL_RL_GPU === "1" ? "auto" : false,
  sequences: N,
  contextSize: 512 * N,
});
const prompt = buildPrompt("tiny", { question: "Which accounts had a balance over 1000 at the end of 2023?" });
// No EOS stop: every candidate runs MAX_TOKENS, so the rows compare equal work.
const params = { maxTokens: MAX_TOKENS, stop: [] as string[] };

async function measure(
  label: string,
  run: () => Promise<Completion[]>,
): Promise<{ label: string; tokens: number; seconds: number }> {
  await run(); // warm-up
  let tokens = 0;
  const t0 = performance.now();
  for (let r = 0; r < REPEATS; r++) tokens += (await run()).reduce((s, c) => s + c.tokens.length, 0);
  return { label, tokens, seconds: (performance.now() - t0) / 1000 };
}

const rows = [
  await measure("1 candidate", async () => [await model.generate(prompt, { ...params, seed: 1 })]),
  await measure(`${N} candidates, sequential`, async () => {
    const out: Completion[] = [];
    for (let i = 0; i < N; i++) out.push(await model.generate(prompt, { ...params, seed: i }));
    return out;
  }),
  await measure(`${N} candidates, parallel (1 context)`, () => model.generateCandidates(prompt, N, params)),
];
await model.dispose();

console.log(`model ${modelPath}, ${MAX_TOKENS} max tokens, ${REPEATS} repeats, threads = cpuMathCores`);
console.log("| run | tokens | seconds | tokens/s |\n|---|---:|---:|---:|");
for (const r of rows)
  console.log(`| ${r.label} | ${r.tokens} | ${r.seconds.toFixed(2)} | ${(r.tokens / r.seconds).toFixed(1)} |`);
const seq = rows[1]!;
const par = rows[2]!;
console.log(`parallel / sequential throughput: ${(par.tokens / par.seconds / (seq.tokens / seq.seconds)).toFixed(2)}×`);
