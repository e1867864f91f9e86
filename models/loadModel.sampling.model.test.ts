/**
 * `fullDistribution` sampling (what GRPO samples with) draws exactly from softmax(logits / T): the first token
 * of many seeded samples against the exact distribution computed from node-llama-cpp's raw logits of the whole
 * vocabulary, with a χ² goodness-of-fit test. The test has power: the same samples are rejected against the
 * distribution at another temperature, and a top-k-filtered sampler is rejected against the exact one. The
 * previous GRPO path (topK = the vocabulary size: a full sort per token) passes too — the distribution is unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Token } from "node-llama-cpp";
import { loadModel, type LoadedModel } from "./loadModel.js";
import { buildPrompt, renderPrompt } from "./promptTemplates.js";
import type { CandidateOptions, GenerationParams } from "./textGenerator.js";
import { writeTinyModel } from "./writeTinyModel.js";

const dir = mkdtempSync(join(tmpdir(), "sampling-test-"));
const prompt = buildPrompt("tiny", { question: "How many active accounts are there?" });
const T = 0.7;
const SAMPLES = 2400;
let model: LoadedModel;
/** Raw logits of the first completion token, [V]. */
let logits: Float64Array;

beforeAll(async () => {
  // initStd 0.5: a peaked random model, so a few tens of tokens carry most of the mass.
  const info = await writeTinyModel({
    out: join(dir, "tiny.gguf"),
    seed: 5,
    initStd: 0.5,
    dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 },
  });
  model = await loadModel({ model: info.path, gpu: false, sequences: 8, contextSize: 256, kvCacheF32: true });
  const context = await model.model.createContext({
    contextSize: 256,
    sequences: 1,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    flashAttention: false,
  });
  try {
    const tokens = model.tokenize(renderPrompt(prompt), true) as Token[];
    const out = await context
      .getSequence()
      .controlledEvaluate([...tokens.slice(0, -1), [tokens.at(-1)!, { generateNext: { logits: true } }]]);
    const raw = out.at(-1)!.next!.logits!;
    logits = new Float64Array(model.vocabularySize);
    expect(raw.size).toBe(model.vocabularySize);
    for (const [token, logit] of raw) logits[token as number] = logit;
  } finally {
    await context.dispose();
  }
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** softmax(logits / t), [V]. */
function softmax(t: number): Float64Array {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp((l - max) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** The first token of `n` samples, 8 seeded candidates per call. */
async function firstTokens(n: number, params: Partial<GenerationParams> & CandidateOptions): Promise<number[]> {
  const tokens: number[] = [];
  for (let call = 0; tokens.length < n; call += 1) {
    const out = await model.generateCandidates(prompt, 8, {
      ...params,
      temperatures: new Array(8).fill(T),
      seeds: Array.from({ length: 8 }, (_, i) => 1000 + call * 8 + i),
      maxTokens: 1,
      scoreLogprobs: false,
    });
    tokens.push(...out.map((c) => c.tokens[0]!));
  }
  return tokens;
}

/**
 * Pearson's χ² of the observed tokens against `p`: bins are the tokens with expected count ≥ 5, the rest pooled.
 * Returns the statistic and the 0.999 quantile of χ²(bins − 1) (Wilson–Hilferty), so a correct sampler fails
 * one run in a thousand.
 */
function chiSquare(tokens: number[], p: Float64Array): { statistic: number; critical: number; bins: number } {
  const n = tokens.length;
  const counts = new Map<number, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let statistic = 0;
  let bins = 0;
  let restExpected = 0;
  let restObserved = n;
  p.forEach((pv, token) => {
    if (n * pv < 5) return;
    const observed = counts.get(token) ?? 0;
    statistic += (observed - n * pv) ** 2 / (n * pv);
    restExpected += n * pv;
    restObserved -= observed;
    bins += 1;
  });
  restExpected = n - restExpected;
  if (restExpected >= 5) {
    statistic += (restObserved - restExpected) ** 2 / restExpected;
    bins += 1;
  } else if (restObserved > 0) statistic = Number.POSITIVE_INFINITY; // mass where the distribution has (almost) none
  const k = bins - 1;
  const z = 3.0902; // Φ⁻¹(0.999)
  const critical = k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
  return { statistic, critical, bins };
}

describe("fullDistribution sampling = softmax(logits / T)", () => {
  test("χ² accepts fullDistribution and the old topK = vocabulary path; rejects a wrong T and a top-k sampler", async () => {
    const exact = softmax(T);
    const full = await firstTokens(SAMPLES, { fullDistribution: true, topK: 3, topP: 0.5 }); // filters ignored
    const fit = chiSquare(full, exact);
    expect(fit.bins).toBeGreaterThanOrEqual(10); // the test has many cells to fail in
    expect(fit.statistic).toBeLessThan(fit.critical);

    const sorted = await firstTokens(SAMPLES, { topK: model.vocabularySize, topP: 1, minP: 0 });
    const sortedFit = chiSquare(sorted, exact);
    expect(sortedFit.statistic).toBeLessThan(sortedFit.critical);

    const wrongT = chiSquare(full, softmax(1));
    expect(wrongT.statistic).toBeGreaterThan(wrongT.critical);
    const topK = chiSquare(await firstTokens(SAMPLES, { topK: 5, topP: 1, minP: 0 }), exact);
    expect(topK.statistic).toBeGreaterThan(topK.critical);
  }, 60_000);

  test("scoreLogprobs: false leaves logprobs empty; the default fills them", async () => {
    const params = { temperatures: [T, T], seeds: [3, 4], maxTokens: 4, fullDistribution: true };
    const [without] = await model.generateCandidates(prompt, 2, { ...params, scoreLogprobs: false });
    const [withScores] = await model.generateCandidates(prompt, 2, params);
    expect(without!.logprobs).toEqual([]);
    expect(withScores!.tokens).toEqual(without!.tokens);
    expect(withScores!.logprobs).toHaveLength(withScores!.tokens.length);
  }, 60_000);
});
