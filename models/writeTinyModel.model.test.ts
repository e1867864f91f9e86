import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LlamaModel } from "node-llama-cpp";
import { readGguf } from "./ggufFile.js";
import { getLlamaRuntime } from "./llamaRuntime.js";
import { loadQwen2Vocabulary } from "./qwen2Vocabulary.js";
import { tinyModelCorpusTexts } from "./tinyModelCorpus.js";
import { writeTinyModel, type TinyModelInfo } from "./writeTinyModel.js";

const dir = mkdtempSync(join(tmpdir(), "tiny-model-test-"));
let info: TinyModelInfo;
let full: LlamaModel;
let trimmed: LlamaModel;
const fullVocab = loadQwen2Vocabulary();

beforeAll(async () => {
  info = await writeTinyModel({
    out: join(dir, "tiny.gguf"),
    seed: 7,
    dims: { embedding: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64 },
  });
  const llama = await getLlamaRuntime(false);
  full = await llama.loadModel({ modelPath: fullVocab.path, vocabOnly: true });
  trimmed = await llama.loadModel({ modelPath: info.path, vocabOnly: true });
}, 60_000);
afterAll(async () => {
  await full?.dispose();
  await trimmed?.dispose();
});

describe("the tiny Qwen2 model", () => {
  test("has the Qwen2 tensors and a trimmed vocabulary", () => {
    const file = readGguf(info.path);
    const names = file.tensors.map((t) => t.name);
    expect(names).toContain("blk.0.attn_q.bias");
    expect(names).toContain("blk.0.ffn_gate.weight");
    expect(names).not.toContain("output.weight");
    expect(file.tensors.find((t) => t.name === "blk.0.attn_k.weight")!.shape).toEqual([32, 16]);
    expect(info.vocabSize).toBeGreaterThan(1000);
    expect(info.vocabSize).toBeLessThan(fullVocab.tokens.length / 10);
  });

  test("the trimmed tokenizer splits every corpus text into the same token strings as Qwen2's", () => {
    const trimmedTokens = (readGguf(info.path).metadata.get("tokenizer.ggml.tokens") as { value: string[] }).value;
    const texts = tinyModelCorpusTexts();
    expect(texts.length).toBeGreaterThan(1000);
    let mismatches = 0;
    for (const text of texts) {
      const a = full.tokenize(text).map((t) => fullVocab.tokens[t as number]);
      const b = trimmed.tokenize(text).map((t) => trimmedTokens[t as number]);
      if (a.join("\u0000") !== b.join("\u0000")) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test("unseen text still round-trips through the byte tokens", () => {
    for (const text of ["Grüße aus München 🚀", "x <=> y ~* 'z'", "中文查询"]) {
      expect(trimmed.detokenize(trimmed.tokenize(text))).toBe(text);
    }
  });
});

describe("building the vocabulary on a fresh machine", () => {
  test("prints nothing that reads like an error (node-llama-cpp's probe of a tensor-less file is silenced)", async () => {
    const cache = mkdtempSync(join(tmpdir(), "tiny-model-cache-"));
    try {
      const { stderr } = await promisify(execFile)(
        "node",
        ["bin/gl-rl.mjs", "model", "tiny", "--out", join(cache, "t.gguf"), "--layers", "1", "--embedding", "32"],
        { env: { ...process.env, GL_RL_CACHE_DIR: cache }, timeout: 120_000 },
      );
      expect(existsSync(join(cache, "t.gguf"))).toBe(true);
      expect(readdirSync(cache).some((f) => f.startsWith("qwen2-trimmed-"))).toBe(true); // the vocabulary was built here
      expect(stderr).not.toMatch(/error|failed/i);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 150_000);
});
