/**
 * The subset of a language model that agents and trainers need. The real implementation wraps
 * node-llama-cpp (models/); unit tests use fakes.
 */

/** A chat prompt. The model's chat template (from the GGUF; ChatML for Qwen) renders it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}
export type Prompt = { messages: ChatMessage[] } | { text: string };

/** Sampling parameters. Defaults live in models/generationParams.ts. */
export interface GenerationParams {
  temperature: number;
  /** Never 0 / unbounded by default: sampling over the full 152k vocabulary is the cost (7–12 vs ≈130 tok/s). */
  topK: number;
  topP: number;
  minP: number;
  maxTokens: number;
  seed: number;
  stop: string[];
  repeatPenalty: number;
  /** GBNF grammar text, optional. */
  grammar?: string;
}

export type FinishReason = "stop" | "eos" | "maxTokens" | "aborted";

/** One completion: the trainer needs `tokens` and `logprobs`. */
export interface Completion {
  text: string;
  /** Sampled token ids, [n_tokens]. */
  tokens: number[];
  /** log p of each sampled token under the model's raw distribution, [n_tokens]; empty with `scoreLogprobs: false`. */
  logprobs: number[];
  finishReason: FinishReason;
  timings: { promptMs: number; generateMs: number; tokensPerSecond: number };
  /** The adapter version that produced it (null: base model). */
  adapter: string | null;
}

export interface CandidateOptions {
  /** Per-candidate temperatures; default the ladder 0.3 … 0.9 across candidates. */
  temperatures?: number[];
  /** Per-candidate seeds; default seed + i. */
  seeds?: number[];
  /**
   * Sample exactly from softmax(logits / T): no top-k, top-p or min-p stage (so no sort of the vocabulary per
   * token); `topK`/`topP`/`minP` are ignored. GRPO sets it: the trainer scores that distribution. Default false.
   */
  fullDistribution?: boolean;
  /** Fill `logprobs` by re-scoring the sampled tokens (one batched evaluation per completion). Default true; false leaves it empty. */
  scoreLogprobs?: boolean;
}

export interface TextGenerator {
  generate(prompt: Prompt, params?: Partial<GenerationParams>, signal?: AbortSignal): Promise<Completion>;
  /** N completions for one prompt, one context sequence each, evaluated together. */
  generateCandidates(
    prompt: Prompt,
    n: number,
    params?: Partial<GenerationParams> & CandidateOptions,
    signal?: AbortSignal,
  ): Promise<Completion[]>;
}
