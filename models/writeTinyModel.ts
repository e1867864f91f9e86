/**
 * The tiny Qwen2-architecture model for tests and the offline demo, written as an f32 GGUF in TypeScript.
 *
 * Architecture (llama.cpp "qwen2"): token embedding → L × [RMSNorm → attention (GQA, QKV bias, RoPE NEOX,
 * freq base 1e6) → residual → RMSNorm → SwiGLU FFN → residual] → RMSNorm → head (tied to the embedding by
 * default: no output.weight). Dimension letters: d = embedding, V = vocabulary, H = heads, Hkv = KV heads,
 * hd = d / H, F = FFN width. Tensors (ggml shapes, ne0 first; a matrix [n_in, n_out] has n_out rows):
 *   token_embd.weight [d, V]                  output_norm.weight [d]     output.weight [d, V] (untied only)
 *   blk.N.attn_norm.weight [d]                blk.N.ffn_norm.weight [d]
 *   blk.N.attn_q.weight [d, d]   .bias [d]    blk.N.ffn_gate.weight [d, F]
 *   blk.N.attn_k.weight [d, Hkv·hd] .bias     blk.N.ffn_up.weight   [d, F]
 *   blk.N.attn_v.weight [d, Hkv·hd] .bias     blk.N.ffn_down.weight [F, d]
 *   blk.N.attn_output.weight [d, d]
 * Weights: N(0, initStd²) from a seeded PRNG (splitmix32 → Box–Muller), in the order above; norms = 1.
 * The same seed and dims give the same bytes. Tokenizer: the real Qwen2 one (qwen2Vocabulary.ts), by
 * default trimmed to the project's corpus (trimVocabulary.ts); the trimmed vocabulary is cached under
 * GL_RL_CACHE_DIR by the hash of the corpus.
 */
import { mulberry32 } from "../runtime/mulberry32.js";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { GGML_TYPE, gguf, writeGguf, type GgufTensor, type GgufValue } from "./ggufFile.js";
import { LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { getLlamaRuntime } from "./llamaRuntime.js";
import { cacheDir } from "../runtime/environment.js";
import { loadQwen2Vocabulary, type Qwen2Vocabulary } from "./qwen2Vocabulary.js";
import { tinyModelCorpusTexts } from "./tinyModelCorpus.js";
import { trimVocabulary, type TrimmedVocabulary } from "./trimVocabulary.js";

export interface TinyModelDims {
  /** d, default 128. */
  embedding: number;
  /** L, default 4. */
  layers: number;
  /** H, default 4. */
  heads: number;
  /** Hkv, default 2. */
  kvHeads: number;
  /** F, default 384. */
  ffn: number;
  /** Training context in tokens, default 512. */
  context: number;
  /** Tie the head to the embedding (no output.weight), default true. */
  tied: boolean;
}

export const DEFAULT_TINY_MODEL_DIMS: Readonly<TinyModelDims> = {
  embedding: 128,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  ffn: 384,
  context: 512,
  tied: true,
};

export interface WriteTinyModelOptions {
  /** Output .gguf path. */
  out: string;
  /** PRNG seed, default 0. */
  seed?: number;
  dims?: Partial<TinyModelDims>;
  /** Standard deviation of the random weights, default 0.02. */
  initStd?: number;
  /** "trimmed" (default): the corpus's tokens; "full": all 151,936 Qwen2 tokens. */
  vocabulary?: "trimmed" | "full";
  /** Corpus texts for trimming; default tinyModelCorpusTexts(). */
  corpusTexts?: string[];
}

export interface TinyModelInfo {
  path: string;
  dims: TinyModelDims;
  vocabSize: number;
  merges: number;
  parameters: number;
  bytes: number;
}

function gaussian(n: number, std: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * Tokenizes the corpus with the full Qwen2 tokenizer (node-llama-cpp, vocabulary-only load) and returns
 * the token strings used. Each text is also tokenized after a space and after a newline, since prompts
 * embed texts mid-line.
 */
async function corpusTokenStrings(full: Qwen2Vocabulary, texts: string[]): Promise<Set<string>> {
  const llama = await getLlamaRuntime(false);
  // node-llama-cpp sizes every model by first loading it in a memory simulator, which fails on a file that
  // holds a vocabulary and no tensors and logs "llama_model_load: error loading model: missing tensor
  // 'token_embd.weight'"; the vocabulary-only load itself then succeeds. Silence llama.cpp's log for this load
  // (node-llama-cpp filters at the source, so nothing else's messages are lost after it).
  const logLevel = llama.logLevel;
  llama.logLevel = LlamaLogLevel.fatal;
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: full.path, vocabOnly: true });
  } finally {
    llama.logLevel = logLevel;
  }
  try {
    const used = new Set<string>();
    for (const text of texts) {
      for (const variant of [text, ` ${text}`, `\n${text}`]) {
        for (const id of model.tokenize(variant, false)) used.add(full.tokens[id as number]!);
      }
    }
    return used;
  } finally {
    await model.dispose();
  }
}

/** The trimmed Qwen2 vocabulary for a corpus, cached by the corpus hash. */
export async function trimmedQwen2Vocabulary(
  texts: string[] = tinyModelCorpusTexts(),
): Promise<TrimmedVocabulary & { chatTemplate: string }> {
  const full = loadQwen2Vocabulary();
  const hash = createHash("sha256").update(full.path).update("\0").update(texts.join("\0")).digest("hex").slice(0, 16);
  const cached = join(cacheDir(), `qwen2-trimmed-${hash}.json`);
  if (existsSync(cached)) {
    return { ...(JSON.parse(readFileSync(cached, "utf8")) as TrimmedVocabulary), chatTemplate: full.chatTemplate };
  }
  const trimmed = trimVocabulary(full, await corpusTokenStrings(full, texts));
  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(trimmed));
  renameSync(tmp, cached);
  return { ...trimmed, chatTemplate: full.chatTemplate };
}

function resolveDims(partial: Partial<TinyModelDims> = {}): TinyModelDims {
  const dims = { ...DEFAULT_TINY_MODEL_DIMS, ...partial };
  for (const key of ["embedding", "layers", "heads", "kvHeads", "ffn", "context"] as const) {
    if (!Number.isInteger(dims[key]) || dims[key] <= 0)
      throw new InputError(`tiny model: ${key} must be a positive integer, got ${dims[key]}`);
  }
  if (dims.embedding % dims.heads !== 0)
    throw new InputError(`tiny model: embedding ${dims.embedding} is not divisible by heads ${dims.heads}`, {
      hint: "pick heads that divide the embedding width",
    });
  if (dims.heads % dims.kvHeads !== 0)
    throw new InputError(`tiny model: heads ${dims.heads} is not a multiple of kvHeads ${dims.kvHeads}`, {
      hint: "grouped-query attention needs heads = k · kvHeads",
    });
  if ((dims.embedding / dims.heads) % 2 !== 0)
    throw new InputError(`tiny model: head size ${dims.embedding / dims.heads} must be even for RoPE`);
  return dims;
}

/**
 * Writes the tiny Qwen2 GGUF (atomically) and returns what it wrote.
 * @example
 * const info = await writeTinyModel({ out: "tiny.gguf", seed: 1 });
 * // info.vocabSize ≈ 5k, info.parameters ≈ 1.4M
 */
export async function writeTinyModel(options: WriteTinyModelOptions): Promise<TinyModelInfo> {
  const dims = resolveDims(options.dims);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0)
    throw new InputError(`tiny model: seed must be a non-negative integer, got ${seed}`);
  const std = options.initStd ?? 0.02;
  const vocab =
    options.vocabulary === "full"
      ? (() => {
          const f = loadQwen2Vocabulary();
          return { tokens: f.tokens, tokenTypes: f.tokenTypes, merges: f.merges, chatTemplate: f.chatTemplate };
        })()
      : await trimmedQwen2Vocabulary(options.corpusTexts);
  const V = vocab.tokens.length;
  const d = dims.embedding;
  const hd = d / dims.heads;
  const kv = dims.kvHeads * hd;
  const F = dims.ffn;
  const next = mulberry32(seed);
  const tensors: GgufTensor[] = [];
  const add = (name: string, shape: number[], init: "normal" | "ones"): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = init === "ones" ? new Float32Array(n).fill(1) : gaussian(n, std, next);
    tensors.push({ name, shape, type: GGML_TYPE.F32, data });
  };
  add("token_embd.weight", [d, V], "normal");
  for (let l = 0; l < dims.layers; l++) {
    const p = `blk.${l}.`;
    add(`${p}attn_norm.weight`, [d], "ones");
    add(`${p}attn_q.weight`, [d, d], "normal");
    add(`${p}attn_q.bias`, [d], "normal");
    add(`${p}attn_k.weight`, [d, kv], "normal");
    add(`${p}attn_k.bias`, [kv], "normal");
    add(`${p}attn_v.weight`, [d, kv], "normal");
    add(`${p}attn_v.bias`, [kv], "normal");
    add(`${p}attn_output.weight`, [d, d], "normal");
    add(`${p}ffn_norm.weight`, [d], "ones");
    add(`${p}ffn_gate.weight`, [d, F], "normal");
    add(`${p}ffn_up.weight`, [d, F], "normal");
    add(`${p}ffn_down.weight`, [F, d], "normal");
  }
  add("output_norm.weight", [d], "ones");
  if (!dims.tied) add("output.weight", [d, V], "normal");

  const id = (t: string): number => {
    const i = vocab.tokens.indexOf(t);
    if (i < 0) throw new Error(`the Qwen2 vocabulary lacks ${t}`);
    return i;
  };
  const eos = id("<|endoftext|>");
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.string("qwen2")],
    ["general.name", gguf.string(`gl-rl tiny qwen2 d${d} L${dims.layers} seed${seed}`)],
    ["general.file_type", gguf.u32(0)],
    ["general.alignment", gguf.u32(32)],
    ["qwen2.context_length", gguf.u32(dims.context)],
    ["qwen2.embedding_length", gguf.u32(d)],
    ["qwen2.block_count", gguf.u32(dims.layers)],
    ["qwen2.feed_forward_length", gguf.u32(F)],
    ["qwen2.attention.head_count", gguf.u32(dims.heads)],
    ["qwen2.attention.head_count_kv", gguf.u32(dims.kvHeads)],
    ["qwen2.rope.freq_base", gguf.f32(1e6)],
    ["qwen2.attention.layer_norm_rms_epsilon", gguf.f32(1e-6)],
    ["tokenizer.ggml.model", gguf.string("gpt2")],
    ["tokenizer.ggml.pre", gguf.string("qwen2")],
    ["tokenizer.ggml.tokens", gguf.strings(vocab.tokens)],
    ["tokenizer.ggml.token_type", gguf.i32s(vocab.tokenTypes)],
    ["tokenizer.ggml.merges", gguf.strings(vocab.merges)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(eos)],
    ["tokenizer.ggml.padding_token_id", gguf.u32(eos)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(eos)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(false)],
    ["tokenizer.chat_template", gguf.string(vocab.chatTemplate)],
  ]);
  const bytes = writeGguf(options.out, { metadata, tensors });
  const parameters = tensors.reduce((a, t) => a + t.data!.length, 0);
  return { path: options.out, dims, vocabSize: V, merges: vocab.merges.length, parameters, bytes };
}
