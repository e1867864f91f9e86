import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAbortError, isModelError } from "../errors.js";
import { gguf, writeGguf } from "./ggufFile.js";
import { loadModel, loadTokenizer, type LoadedModel } from "./loadModel.js";
import { createLoraAdapter, writeLoraAdapter } from "./loraAdapter.js";
import { REASONING_THEN_SQL_GRAMMAR, buildPrompt } from "./promptTemplates.js";
import { writeTinyModel } from "./writeTinyModel.js";

const dir = mkdtempSync(join(tmpdir(), "load-model-test-"));
const modelPath = join(dir, "tiny.gguf");
const prompt = buildPrompt("tiny", { question: "How many active accounts are there?" });
let model: LoadedModel;

beforeAll(async () => {
  // initStd 0.5: a peaked random model, so log-probs are far from uniform and differences show.
  await writeTinyModel({
    out: modelPath,
    seed: 11,
    initStd: 0.5,
    dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 },
  });
  model = await loadModel({ model: modelPath, gpu: false, sequences: 4, contextSize: 256, kvCacheF32: true });
}, 60_000);
afterAll(async () => {
  await model?.dispose();
});

const meanAbsDiff = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0) / a.length;

describe("loadModel on the tiny model", () => {
  test("parallel candidates: N distinct completions with token ids and raw log-probs that a re-evaluation reproduces", async () => {
    const candidates = await model.generateCandidates(prompt, 4, { maxTokens: 16, seed: 5 });
    expect(candidates).toHaveLength(4);
    expect(new Set(candidates.map((c) => c.tokens.join(","))).size).toBe(4);
    const promptTokens = model.tokenize((prompt as { text: string }).text, true);
    for (const c of candidates) {
      expect(c.tokens.length).toBeGreaterThan(0);
      expect(c.logprobs).toHaveLength(c.tokens.length);
      expect(c.logprobs.every((lp) => lp <= 0 && Number.isFinite(lp))).toBe(true);
      expect(c.adapter).toBeNull();
      const again = await model.logprobsOf(promptTokens, c.tokens);
      expect(meanAbsDiff(again, c.logprobs)).toBeLessThanOrEqual(1e-3);
    }
  }, 60_000);

  test("the same seed and temperature give the same completion; requests beyond the pool queue", async () => {
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => model.generate(prompt, { maxTokens: 8, seed: 42, temperature: 0.8 })),
    );
    expect(new Set(runs.map((r) => r.tokens.join(","))).size).toBe(1);
    expect(model.sequences).toBe(4);
  }, 60_000);

  test("grammar, stop strings and abort", async () => {
    const shaped = await model.generate(prompt, { maxTokens: 12, grammar: REASONING_THEN_SQL_GRAMMAR });
    expect(shaped.text.startsWith("<reasoning>\n".slice(0, shaped.text.length))).toBe(true);
    const free = await model.generate(prompt, { maxTokens: 12, seed: 1 });
    const stopAt = free.text.slice(2, 4);
    const stopped = await model.generate(prompt, { maxTokens: 12, seed: 1, stop: [stopAt] });
    expect(stopped.finishReason).toBe("stop");
    expect(stopped.text).toBe(free.text.slice(0, free.text.indexOf(stopAt)));
    const ctl = new AbortController();
    ctl.abort();
    await expect(model.generate(prompt, {}, ctl.signal)).rejects.toThrow(/aborted/);
    const late = new AbortController();
    const pending = model.generate(prompt, { maxTokens: 200 }, late.signal);
    setTimeout(() => late.abort(), 30);
    const cut = await pending;
    expect(cut.finishReason).toBe("aborted");
    expect(cut.tokens.length).toBeLessThan(200);
  }, 60_000);

  test("LoRA: B ≠ 0 changes the log-probs, scale 0 leaves them exactly unchanged, swaps, corrupt adapters", async () => {
    const promptTokens = model.tokenize((prompt as { text: string }).text, true);
    const completion = (await model.generate(prompt, { maxTokens: 10, seed: 3 })).tokens;
    const base = await model.logprobsOf(promptTokens, completion);
    const targets = new Map(["blk.0.attn_q.weight", "blk.1.ffn_down.weight"].map((n) => [n, model.tensors.get(n)!]));
    const adapter = createLoraAdapter({ rank: 4, alpha: 4, targets, seed: 1, aStd: 0.5, bStd: 0.5 });
    const file = join(dir, "adapter.gguf");
    writeLoraAdapter(file, adapter);

    await model.setAdapter(file, { scale: 0 });
    expect(await model.logprobsOf(promptTokens, completion)).toEqual(base);

    const v2 = await model.setAdapter(file, { scale: 1 });
    expect(model.adapter).toBe(v2);
    const adapted = await model.logprobsOf(promptTokens, completion);
    expect(meanAbsDiff(adapted, base)).toBeGreaterThan(1e-3);
    expect((await model.generate(prompt, { maxTokens: 2 })).adapter).toBe(v2);

    // A newer version written to the same path is picked up (each version gets its own path).
    writeLoraAdapter(file, createLoraAdapter({ rank: 4, alpha: 4, targets, seed: 2, aStd: 0.5, bStd: 0.5 }));
    await model.setAdapter(file);
    const swapped = await model.logprobsOf(promptTokens, completion);
    expect(meanAbsDiff(swapped, adapted)).toBeGreaterThan(1e-3);

    const corrupt = join(dir, "corrupt.gguf");
    writeFileSync(corrupt, readFileSync(file).subarray(0, 300));
    await expect(model.setAdapter(corrupt)).rejects.toThrow(
      /LoRA adapter .*corrupt\.gguf is a corrupt or truncated GGUF/,
    );
    const wrong = join(dir, "wrong.gguf");
    writeLoraAdapter(
      wrong,
      createLoraAdapter({ rank: 2, alpha: 2, targets: new Map([["blk.0.attn_q.weight", [32, 64]]]) }),
    );
    await expect(model.setAdapter(wrong)).rejects.toThrow(
      /blk\.0\.attn_q\.weight is \[64, 64\] in the model but the adapter expects \[32, 64\]/,
    );
    const tied = createLoraAdapter({ rank: 2, alpha: 2, targets: new Map([["output.weight", [64, 10]]]) });
    await expect(model.setAdapter(tied)).rejects.toThrow(/no tensor output\.weight/);
    expect(await model.logprobsOf(promptTokens, completion)).toEqual(swapped);

    await model.setAdapter(null);
    expect(await model.logprobsOf(promptTokens, completion)).toEqual(base);
  }, 60_000);

  test("the default f16 KV cache: log-probs still close to the f32 ones", async () => {
    const f16 = await loadModel({ model: modelPath, gpu: false, sequences: 1, contextSize: 256 });
    try {
      const c = await f16.generate(prompt, { maxTokens: 12, seed: 9 });
      const exact = await model.logprobsOf(model.tokenize((prompt as { text: string }).text, true), c.tokens);
      expect(meanAbsDiff(c.logprobs, exact)).toBeLessThan(0.1);
    } finally {
      await f16.dispose();
    }
  }, 60_000);
});

describe("loadTokenizer: the vocabulary alone", () => {
  test("tokenizes as the loaded model does (special tokens too), with its EOS and vocabulary size", async () => {
    const tokenizer = await loadTokenizer({ model: modelPath });
    try {
      for (const text of ["SELECT count(*) FROM accounts WHERE status = 'active'", "<|im_start|>user\nHow many?"])
        for (const special of [false, true])
          expect(tokenizer.tokenize(text, special)).toEqual(model.tokenize(text, special));
      expect(tokenizer.eosToken).toBe(model.eosToken);
      expect(tokenizer.vocabularySize).toBe(model.vocabularySize);
      expect(tokenizer.path).toBe(model.path);
    } finally {
      await tokenizer.dispose();
    }
  });
});

describe("bad input fails fast with a ModelError naming the file and the fix", () => {
  const expectFast = async (options: Parameters<typeof loadModel>[0], pattern: RegExp): Promise<void> => {
    const t0 = performance.now();
    const error = await loadModel(options).catch((e: unknown) => e);
    expect(isModelError(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    expect((error as { hint?: string }).hint).toBeTruthy();
    expect(performance.now() - t0).toBeLessThan(2000);
  };
  test("missing file", () =>
    expectFast({ model: join(dir, "missing.gguf"), gpu: false }, /model file not found: .*missing\.gguf/));
  test("not GGUF", async () => {
    const p = join(dir, "model.bin");
    writeFileSync(p, Buffer.from("\u0000\u0001not a gguf file at all"));
    await expectFast({ model: p, gpu: false }, /model\.bin is not a GGUF file/);
  });
  test("unsupported architecture", async () => {
    const p = join(dir, "bert.gguf");
    writeGguf(p, { metadata: new Map([["general.architecture", gguf.string("bert")]]), tensors: [] });
    await expectFast({ model: p, gpu: false }, /bert\.gguf has architecture 'bert'; gl-rl serves qwen2/);
  });
  test("an hf: URI that cannot be resolved without the network", () =>
    expectFast(
      { model: "hf:nobody/no-such-repo-gl-rl/none.gguf", gpu: false, download: false },
      /cannot resolve hf:nobody/,
    ));
  test("an hf: URI when the hub is unreachable (offline): fails fast instead of retrying", async () => {
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = "http://127.0.0.1:9"; // nothing listens there: no download can happen
    try {
      await expectFast(
        { model: "hf:nobody/no-such-repo-gl-rl/none.gguf", gpu: false },
        /cannot download hf:nobody.*127\.0\.0\.1:9 is unreachable/,
      );
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
    }
  });
  test("an aborted queue wait is an AbortError", async () => {
    const ctl = new AbortController();
    ctl.abort();
    const error = await model.logprobsOf([1], [2], ctl.signal).catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
  });
});
