/**
 * Loading a Qwen-family GGUF through node-llama-cpp and generating with it (the real TextGenerator).
 *
 * 1. Input checks before node-llama-cpp sees the file (fast, clear ModelErrors): missing file, not GGUF
 *    (magic), unsupported `general.architecture`, an `hf:` URI that cannot be resolved (offline ≈ 25 ms).
 * 2. One context with `sequences` sequences (default 8) held in a bounded pool: concurrent requests queue.
 *    Threads = `GL_RL_THREADS` or physical cores (llama.cpuMathCores); optional f32 KV cache (exact log-probs, docs/native.md).
 * 3. Sampling: node-llama-cpp's sampler (`sequence.evaluate`) with topK always set, per-candidate
 *    temperature and seed, optional GBNF grammar, stop strings, EOG tokens yielded and kept in `tokens`.
 *    `fullDistribution` (GRPO): exactly softmax(logits / T) — no top-k/top-p/min-p stage at all. node-llama-cpp
 *    3.22.1 turns an absent topK into 40 and topK ≤ 0 into k = n_vocab, and llama.cpp's top-k with k = n_vocab
 *    sorts the whole vocabulary every token (llama_sampler_top_k_impl → partial_sort_inplace(n_vocab)); a topK
 *    of null is dropped before the addon, which then builds no top-k sampler: the chain is temperature → dist,
 *    and dist draws from the softmax in one pass without sorting (docs/grpo.md "Sampling").
 *    `tokens`/`logprobs` hold every sampled token (the EOG token and the tokens that completed a stop
 *    string included: what the trainer scores); `text` excludes the EOG token and cuts before the stop.
 * 4. Log-probs of the sampled tokens under the RAW model distribution (no temperature/topK/grammar), unless
 *    `scoreLogprobs: false` (GRPO: the trainer computes its own, so the re-evaluation would be wasted):
 *    after sampling, the completion's tokens are erased from the sequence's KV cache and re-evaluated in
 *    one batch with `controlledEvaluate` (logits filter: the target and `includeSelected`, + `totalLogitWeight`:
 *    log p = logit − maxLogit − log Σ exp(logit − maxLogit)). With no sampling options node-llama-cpp's chain
 *    is greedy, so the selected token is the argmax and its logit is maxLogit; `includeTop: 1` gave the same
 *    number through a sort of the whole vocabulary per token (~10 ms at 151,936 tokens, docs/ecosystem.md
 *    "node-llama-cpp 3.22.1"), the filter is one pass. Why afterwards and not per step: the
 *    grammar and repeat penalty live in `evaluate()` only, and one batched re-evaluation of n tokens
 *    costs far less than n decode steps.
 * 5. Parallel candidates: one sequence per candidate, all awaited together so their decode steps share
 *    batches. Temperature ladder 0.3…0.9 and seeds seed+i by default.
 * 6. LoRA: an adapter is attached to a new context (the model is not reloaded); each version is copied to
 *    a fresh path (node-llama-cpp caches adapters by path until the model is disposed); the old context
 *    drains and is disposed, the old version file removed. A bad adapter throws and the previous one
 *    keeps serving.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  LlamaGrammarEvaluationState,
  resolveModelFile,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { AbortError, InputError, ModelError } from "../errors.js";
import { ggufString, readGguf } from "./ggufFile.js";
import { resolveGenerationParams, temperatureLadder } from "./generationParams.js";
import { getLlamaRuntime, type GpuChoice } from "./llamaRuntime.js";
import { checkLoraAdapterFits, readLoraAdapter, writeLoraAdapter, type LoraAdapter } from "./loraAdapter.js";
import { renderPrompt } from "./promptTemplates.js";
import { cacheDir } from "../runtime/environment.js";
import { SequencePool } from "./sequencePool.js";
import type {
  CandidateOptions,
  Completion,
  FinishReason,
  GenerationParams,
  Prompt,
  TextGenerator,
} from "./textGenerator.js";

/** Architectures whose GGUFs this layer serves (Qwen2/2.5/3 and the llama family they resemble). */
export const SUPPORTED_ARCHITECTURES: readonly string[] = ["qwen2", "qwen3", "qwen2moe", "qwen3moe", "llama"];

export interface LoadModelOptions {
  /** A local .gguf path or an `hf:<user>/<repo>/<file>.gguf` URI (downloaded into GL_RL_CACHE_DIR/models). */
  model: string;
  /** "auto" (default: node-llama-cpp's best build, falling back to CPU), "cpu" (= false), "cuda", "vulkan", "metal". */
  gpu?: GpuChoice;
  /** Tokens per context, default min(training context, 2048). */
  contextSize?: number;
  /** Sequences in the pool = parallel generations, default 8. */
  sequences?: number;
  /** CPU threads, default `GL_RL_THREADS` or llama.cpuMathCores (runtime/environment.ts). */
  threads?: number;
  /** f32 KV cache and no flash attention: log-probs exact to ~1e-5 vs the trainer's forward. Default false. */
  kvCacheF32?: boolean;
  /** A LoRA adapter file to start with. */
  adapter?: string;
  /** The adapter's scale, default 1. */
  adapterScale?: number;
  /** Allow `hf:` downloads (default true; tests pass false). A cached download is used without network. */
  download?: boolean;
}

interface Serving {
  context: LlamaContext;
  pool: SequencePool<LlamaContextSequence>;
  adapter: string | null;
  adapterFile: string | null;
}

function modelError(code: string, message: string, hint: string, file: string, cause?: unknown): ModelError {
  return new ModelError(code, message, { hint, context: { file }, cause });
}

/**
 * Offline, node-llama-cpp's resolver retried for over a minute here although DNS failed in ~0.1 s:
 * probe the hub first (HEAD, 10 s limit) so that an hf: URI without network fails fast.
 */
async function probeHub(uri: string): Promise<void> {
  const endpoint = process.env.HF_ENDPOINT ?? "https://huggingface.co";
  try {
    await fetch(endpoint, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause =
      (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
    throw modelError(
      "model.offline",
      `cannot download ${uri}: ${endpoint} is unreachable (${cause})`,
      "connect to the network, or download the GGUF elsewhere and pass its local path",
      uri,
      error,
    );
  }
}

/** Resolves and checks the model file; returns its path and its tensors' shapes. */
async function resolveModel(
  options: LoadModelOptions,
): Promise<{ path: string; architecture: string; tensors: Map<string, number[]> }> {
  let path = options.model;
  if (typeof path !== "string" || path.length === 0)
    throw new InputError("loadModel: model must be a .gguf path or an hf: URI");
  if (path.startsWith("hf:")) {
    const directory = join(cacheDir(), "models");
    try {
      // Already downloaded? Then no network at all.
      path = await resolveModelFile(path, { directory, download: false, cli: false }).catch(async (cached: unknown) => {
        if (options.download === false) throw cached;
        await probeHub(options.model);
        return resolveModelFile(options.model, { directory, download: "auto", cli: false });
      });
    } catch (error) {
      if (error instanceof ModelError) throw error;
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw modelError(
        "model.unresolved",
        `cannot resolve ${options.model}: ${reason}`,
        "check the network and the URI (hf:<user>/<repo>/<file>.gguf), or download the GGUF and pass its local path",
        options.model,
        error,
      );
    }
  }
  return checkModelFile(path);
}

/**
 * The fast "is this a GGUF model we serve" check (header only, before node-llama-cpp sees the file):
 * ModelError model.missingFile / model.notGguf / model.corruptGguf / model.isAdapter / model.architecture.
 * @example
 * checkModelFile("tiny.gguf").architecture; // "qwen2"
 */
export function checkModelFile(path: string): { path: string; architecture: string; tensors: Map<string, number[]> } {
  const file = readGguf(path);
  const architecture = ggufString(file, "general.architecture") ?? "";
  if (ggufString(file, "general.type") === "adapter") {
    throw modelError(
      "model.isAdapter",
      `${path} is a LoRA adapter, not a model`,
      "pass the base model as model and the adapter as adapter",
      path,
    );
  }
  if (!SUPPORTED_ARCHITECTURES.includes(architecture)) {
    throw modelError(
      "model.architecture",
      `${path} has architecture '${architecture || "(none)"}'; gl-rl serves ${SUPPORTED_ARCHITECTURES.join(", ")}`,
      "use a Qwen2.5-Coder / Qwen3 GGUF (e.g. hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF) or the tiny model (gl-rl model tiny)",
      path,
    );
  }
  return { path, architecture, tensors: new Map(file.tensors.map((t) => [t.name, t.shape])) };
}

/** A loaded model: TextGenerator + tokenizer + raw log-probs + LoRA adapter management. */
export class LoadedModel implements TextGenerator {
  private serving: Serving;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly adapterDir = mkdtempSync(join(tmpdir(), "gl-rl-adapters-"));
  private adapterVersion = 0;
  private swapping: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** @internal use loadModel(). */
  constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
    readonly path: string,
    readonly architecture: string,
    /** The model's tensors: name → ggml shape. */
    readonly tensors: Map<string, number[]>,
    private readonly contextOptions: { contextSize: number; sequences: number; threads: number; kvCacheF32: boolean },
    serving: Serving,
  ) {
    this.serving = serving;
  }

  /** End-of-generation token appended to training completions. */
  get eosToken(): number {
    const eos = this.model.tokens.eos;
    if (eos === null)
      throw new ModelError("model.noEos", `${this.path} defines no EOS token`, {
        hint: "use a GGUF with tokenizer.ggml.eos_token_id",
      });
    return eos as number;
  }

  get vocabularySize(): number {
    return this.tensors.get("token_embd.weight")?.[1] ?? 0;
  }
  /** The active adapter's label (null: base model). */
  get adapter(): string | null {
    return this.serving.adapter;
  }
  get sequences(): number {
    return this.serving.pool.size;
  }

  tokenize(text: string, specialTokens = false): number[] {
    return this.model.tokenize(text, specialTokens) as number[];
  }

  detokenize(tokens: readonly number[], specialTokens = false): string {
    return this.model.detokenize(tokens as Token[], specialTokens);
  }

  async generate(prompt: Prompt, params: Partial<GenerationParams> = {}, signal?: AbortSignal): Promise<Completion> {
    const [completion] = await this.generateCandidates(
      prompt,
      1,
      { ...params, temperatures: [params.temperature ?? resolveGenerationParams(params).temperature] },
      signal,
    );
    return completion!;
  }

  async generateCandidates(
    prompt: Prompt,
    n: number,
    params: Partial<GenerationParams> & CandidateOptions = {},
    signal?: AbortSignal,
  ): Promise<Completion[]> {
    if (!Number.isInteger(n) || n < 1)
      throw new InputError(`generateCandidates: n must be a positive integer, got ${n}`);
    const {
      temperatures = temperatureLadder(n),
      seeds,
      fullDistribution = false,
      scoreLogprobs = true,
      ...rest
    } = params;
    const base = resolveGenerationParams(rest);
    if (temperatures.length !== n || (seeds && seeds.length !== n)) {
      throw new InputError(
        `generateCandidates: ${n} candidates need ${n} temperatures and seeds, got ${temperatures.length} and ${seeds?.length ?? n}`,
      );
    }
    const promptTokens = this.tokenize(renderPrompt(prompt), true);
    if (promptTokens.length === 0) throw new InputError("generate: the prompt is empty");
    const grammar = base.grammar ? await this.grammar(base.grammar) : undefined;
    const serving = this.serving;
    return Promise.all(
      temperatures.map(async (temperature, i) => {
        const seq = await serving.pool.acquire(signal);
        try {
          return await this.sample(
            seq,
            serving.adapter,
            promptTokens,
            { ...base, temperature, seed: seeds?.[i] ?? base.seed + i },
            grammar,
            { fullDistribution, scoreLogprobs },
            signal,
          );
        } finally {
          serving.pool.release(seq);
        }
      }),
    );
  }

  /**
   * log p(completion_t | prompt, completion_<t) under the raw model distribution (with the active
   * adapter), [n_completion]. One batched controlledEvaluate on a pooled sequence.
   */
  async logprobsOf(promptTokens: number[], completionTokens: number[], signal?: AbortSignal): Promise<number[]> {
    if (promptTokens.length === 0) throw new InputError("logprobsOf: promptTokens is empty");
    if (completionTokens.length === 0) return [];
    const serving = this.serving;
    const seq = await serving.pool.acquire(signal);
    try {
      await seq.clearHistory();
      return await this.scoreTokens(
        seq,
        promptTokens.slice(0, -1),
        promptTokens[promptTokens.length - 1]!,
        completionTokens,
      );
    } finally {
      serving.pool.release(seq);
    }
  }

  /**
   * Attaches a LoRA adapter (a file or an in-memory adapter) or removes it (null), without reloading the
   * model. Returns the new version's label. On any error the previous adapter keeps serving.
   */
  setAdapter(
    adapter: string | LoraAdapter | null,
    options: { scale?: number; label?: string } = {},
  ): Promise<string | null> {
    const run = this.swapping.then(() => this.swapAdapter(adapter, options));
    this.swapping = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.serving.pool.close();
    await this.serving.pool.drain();
    await this.serving.context.dispose();
    await this.model.dispose();
    rmSync(this.adapterDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  // ─── internals ────────────────────────────────────────────────────────────────────────────────────

  private grammar(text: string): Promise<LlamaGrammar> {
    let g = this.grammars.get(text);
    if (!g) {
      g = this.llama.createGrammar({ grammar: text }).catch((error: unknown) => {
        this.grammars.delete(text);
        throw new InputError(
          `invalid GBNF grammar: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
          { hint: "check the grammar's syntax (llama.cpp GBNF)", cause: error },
        );
      });
      this.grammars.set(text, g);
    }
    return g;
  }

  private async sample(
    seq: LlamaContextSequence,
    adapter: string | null,
    promptTokens: number[],
    p: GenerationParams,
    grammar: LlamaGrammar | undefined,
    mode: { fullDistribution: boolean; scoreLogprobs: boolean },
    signal?: AbortSignal,
  ): Promise<Completion> {
    await seq.clearHistory();
    const t0 = performance.now();
    let tFirst = 0;
    const tokens: number[] = [];
    let finishReason: FinishReason = "maxTokens";
    let text = "";
    const grammarEvaluationState = grammar
      ? new LlamaGrammarEvaluationState({ model: this.model, grammar })
      : undefined;
    // null (not undefined, which node-llama-cpp turns into its default 40) removes the stage; see 3. above.
    const filters = mode.fullDistribution
      ? { topK: null as unknown as undefined, topP: null as unknown as undefined, minP: 0 }
      : { topK: p.topK, topP: p.topP, minP: p.minP };
    const iterator = seq.evaluate(promptTokens as Token[], {
      temperature: p.temperature,
      ...filters,
      seed: p.seed,
      grammarEvaluationState,
      repeatPenalty:
        p.repeatPenalty === 1
          ? undefined
          : { penalty: p.repeatPenalty, punishTokens: () => tokens.slice(-64) as Token[] },
      yieldEogToken: true,
    });
    for await (const token of iterator) {
      if (tFirst === 0) tFirst = performance.now();
      tokens.push(token as number);
      if (this.model.isEogToken(token)) {
        finishReason = "eos";
        break;
      }
      if (p.stop.length) {
        const sofar = this.detokenize(tokens);
        const at = Math.min(
          ...p.stop.map((s) => {
            const i = sofar.indexOf(s);
            return i < 0 ? Infinity : i;
          }),
        );
        if (at !== Infinity) {
          finishReason = "stop";
          text = sofar.slice(0, at);
          break;
        }
      }
      if (signal?.aborted) {
        finishReason = "aborted";
        break;
      }
      if (tokens.length >= p.maxTokens) break;
    }
    const tEnd = performance.now();
    if (finishReason !== "stop") text = this.detokenize(finishReason === "eos" ? tokens.slice(0, -1) : tokens);
    // Raw log-probs: drop the completion (and the last prompt token's cached state) and re-evaluate them.
    let logprobs: number[] = [];
    if (tokens.length > 0 && mode.scoreLogprobs) {
      await seq.eraseContextTokenRanges([{ start: promptTokens.length - 1, end: seq.nextTokenIndex }]);
      logprobs = await this.scoreTokens(seq, [], promptTokens[promptTokens.length - 1]!, tokens);
    }
    const generateMs = tFirst ? tEnd - tFirst : 0;
    return {
      text,
      tokens,
      logprobs,
      finishReason,
      adapter,
      timings: {
        promptMs: (tFirst || tEnd) - t0,
        generateMs,
        tokensPerSecond: generateMs > 0 ? ((tokens.length - 1) * 1000) / generateMs : 0,
      },
    };
  }

  /** Evaluates `prefix` (no outputs), then `last` + targets[0..n-2], reading log p(targets[i]). */
  private async scoreTokens(
    seq: LlamaContextSequence,
    prefix: number[],
    last: number,
    targets: number[],
  ): Promise<number[]> {
    const inputs = [
      ...prefix.map((t) => t as Token),
      ...[last, ...targets.slice(0, -1)].map(
        (t, i) =>
          [
            t as Token,
            {
              generateNext: {
                // includeSelected, not includeTop: 1 — see the file comment, 4.
                logits: { filter: { tokens: [targets[i]! as Token], includeSelected: true } },
                totalLogitWeight: true,
              },
            },
          ] as [
            Token,
            {
              generateNext: {
                logits: { filter: { tokens: Token[]; includeSelected: boolean } };
                totalLogitWeight: boolean;
              };
            },
          ],
      ),
    ];
    const out = await seq.controlledEvaluate(inputs);
    return targets.map((target, i) => {
      const next = out[prefix.length + i]?.next;
      const logit = next?.logits?.get(target as Token);
      if (!next?.logits || logit === undefined || next.totalLogitWeight === undefined) {
        throw new ModelError(
          "model.logprobs",
          `controlledEvaluate returned no logits for token ${i} of the completion`,
          { hint: "this is a bug in gl-rl's use of node-llama-cpp; please report it" },
        );
      }
      const max = Math.max(...next.logits.values());
      return logit - max - Math.log(next.totalLogitWeight);
    });
  }

  private async swapAdapter(
    adapter: string | LoraAdapter | null,
    options: { scale?: number; label?: string },
  ): Promise<string | null> {
    if (this.disposed) throw new AbortError("the model was disposed");
    let file: string | null = null;
    let label: string | null = null;
    if (adapter !== null) {
      const version = ++this.adapterVersion;
      file = join(this.adapterDir, `adapter-v${version}.gguf`);
      if (typeof adapter === "string") {
        checkLoraAdapterFits(adapter, readLoraAdapter(adapter), this);
        copyFileSync(adapter, file);
        label = options.label ?? `${adapter}#v${version}`;
      } else {
        checkLoraAdapterFits(`(in-memory adapter v${version})`, adapter, this);
        writeLoraAdapter(file, adapter);
        label = options.label ?? `v${version}`;
      }
    }
    let next: Serving;
    try {
      next = await createServing(this.model, this.contextOptions, file, options.scale ?? 1, label);
    } catch (error) {
      if (file) rmSync(file, { force: true });
      throw new ModelError(
        "adapter.load",
        `llama.cpp could not load the LoRA adapter ${typeof adapter === "string" ? adapter : label}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
        {
          hint: "the previous adapter keeps serving; check that the adapter was trained for this model",
          context: { file: typeof adapter === "string" ? adapter : file },
          cause: error,
        },
      );
    }
    const old = this.serving;
    this.serving = next;
    void old.pool.drain().then(async () => {
      await old.context.dispose();
      if (old.adapterFile) rmSync(old.adapterFile, { force: true });
    });
    return label;
  }
}

async function createServing(
  model: LlamaModel,
  o: { contextSize: number; sequences: number; threads: number; kvCacheF32: boolean },
  adapterFile: string | null,
  scale: number,
  adapter: string | null,
): Promise<Serving> {
  const context = await model.createContext({
    contextSize: o.contextSize,
    sequences: o.sequences,
    threads: o.threads,
    ...(o.kvCacheF32
      ? {
          experimentalKvCacheKeyType: "F32" as const,
          experimentalKvCacheValueType: "F32" as const,
          flashAttention: false,
        }
      : {}),
    ...(adapterFile ? { lora: { adapters: [{ filePath: adapterFile, scale }] } } : {}),
  });
  const seqs = Array.from({ length: o.sequences }, () => context.getSequence());
  return { context, pool: new SequencePool(seqs), adapter, adapterFile };
}

/** Files below this size (≈ 60 M parameters at q8_0) decode on one thread by default. */
const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/**
 * The default decode threads: `GL_RL_THREADS` when set, else one for a small model and the physical cores
 * (`llama.maxThreads`, llamaRuntime.ts) otherwise. A token of the tiny demo model is a few MFLOP: split over
 * threads, ggml's per-op barriers cost more than the work (2 threads decoded it 10× slower than 1 on the
 * 2-core development machine, docs/ecosystem.md "node-llama-cpp 3.22.1").
 */
export function decodeThreads(llama: { maxThreads: number }, path: string): number {
  if (process.env.GL_RL_THREADS?.trim()) return llama.maxThreads;
  return statSync(path).size < SMALL_MODEL_BYTES ? 1 : llama.maxThreads;
}

/** A model's tokenizer alone (no weights, no context): what a trainer whose rollouts run on servers still needs. */
export interface ModelTokenizer {
  /** The resolved local GGUF path. */
  readonly path: string;
  readonly vocabularySize: number;
  readonly eosToken: number;
  tokenize(text: string, specialTokens?: boolean): number[];
  dispose(): Promise<void>;
}

/**
 * The tokenizer of a GGUF (local path or hf: URI) without its weights: llama.cpp's `vocab_only` load — the same
 * tokenization as loadModel's, for the memory of the vocabulary alone.
 * @example
 * const tokenizer = await loadTokenizer({ model: "qwen.gguf" });
 * tokenizer.tokenize("SELECT 1"); // [4858, 220, 16]
 */
export async function loadTokenizer(
  options: Pick<LoadModelOptions, "model" | "gpu" | "download">,
): Promise<ModelTokenizer> {
  const { path, tensors } = await resolveModel(options);
  const llama = await getLlamaRuntime(options.gpu ?? "auto");
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path, vocabOnly: true });
  } catch (error) {
    throw modelError(
      "model.load",
      `llama.cpp could not read the vocabulary of ${path}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      "the file may be truncated or from a newer llama.cpp; re-download or re-convert it",
      path,
      error,
    );
  }
  const eos = model.tokens.eos;
  if (eos === null) {
    await model.dispose();
    throw new ModelError("model.noEos", `${path} defines no EOS token`, {
      hint: "use a GGUF with tokenizer.ggml.eos_token_id",
    });
  }
  return {
    path,
    vocabularySize: tensors.get("token_embd.weight")?.[1] ?? 0,
    eosToken: eos as number,
    tokenize: (text, specialTokens = false) => model.tokenize(text, specialTokens) as number[],
    dispose: () => model.dispose(),
  };
}

/**
 * Loads a GGUF model (local path or hf: URI) and returns a LoadedModel.
 * Errors: ModelError model.missingFile / model.notGguf / model.architecture / model.unresolved / adapter.*.
 * @example
 * await using model = await loadModel({ model: "tiny.gguf", gpu: false, sequences: 4 });
 * const [a, b] = await model.generateCandidates({ text: "How many accounts?\nSQL:\n" }, 2);
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const sequences = options.sequences ?? 8;
  if (!Number.isInteger(sequences) || sequences < 1)
    throw new InputError(`loadModel: sequences must be a positive integer, got ${sequences}`);
  const { path, architecture, tensors } = await resolveModel(options);
  if (options.adapter !== undefined && !existsSync(options.adapter)) {
    throw new ModelError("adapter.missingFile", `LoRA adapter not found: ${options.adapter}`, {
      hint: "pass the path of an adapter .gguf",
      context: { file: options.adapter },
    });
  }
  const llama = await getLlamaRuntime(options.gpu ?? "auto");
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path });
  } catch (error) {
    throw modelError(
      "model.load",
      `llama.cpp could not load ${path} (${statSync(path).size} bytes): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      "the file may be truncated or from a newer llama.cpp; re-download or re-convert it",
      path,
      error,
    );
  }
  const contextOptions = {
    contextSize: options.contextSize ?? Math.min(model.trainContextSize, 2048),
    sequences,
    threads: options.threads ?? decodeThreads(llama, path),
    kvCacheF32: options.kvCacheF32 ?? false,
  };
  try {
    const serving = await createServing(model, contextOptions, null, 1, null);
    const loaded = new LoadedModel(llama, model, path, architecture, tensors, contextOptions, serving);
    if (options.adapter) await loaded.setAdapter(options.adapter, { scale: options.adapterScale });
    return loaded;
  } catch (error) {
    await model.dispose();
    throw error;
  }
}
