/**
 * The one file that types every export of the native gradient extension (build/Release/gl_rl_native.node,
 * built by `node trainers/native/buildNative.mjs`) and loads it. Everything else goes through
 * trainers/nativePolicy.ts.
 *
 * Rejections and throws from the addon are plain Errors with a `code` ("native.gguf", "native.shape",
 * "native.input", "native.file", "native.memory", "native.busy", "native.disposed", …); `toNativeError`
 * turns them into NativeError with a hint.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeError } from "../../errors.js";
import type { StepOptions } from "../policyBackend.js";

/** One sequence of a batch: prompt + completion token ids; log-probs cover tokens[completionStart..]. */
export interface AddonSequence {
  tokens: Int32Array | number[];
  completionStart: number;
}

export interface AddonLoadOptions {
  /** A qwen2 or qwen3 (dense) GGUF: f32/f16/bf16/q8_0/q4_0/q4_K/q5_K/q6_K weights, dequantized to f32 at load. */
  modelPath: string;
  /** "lora" (default): LoRA A/B trainable, the model frozen; "all": every weight trainable. */
  trainable?: "lora" | "all";
  /** CPU threads for ggml (default 2). */
  threads?: number;
  /** node-llama-cpp's prebuilt ggml libraries, where the CPU backend variants are loaded from. */
  ggmlBinsDir?: string;
  lora?: {
    /** r, default 8. */
    rank?: number;
    /** Scale = alpha / r; default 16. */
    alpha?: number;
    /** Default all seven: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down. */
    targets?: string[];
    /** PEFT's lora_dropout on the LoRA branch input during accumulate (not logprobs); default 0. */
    dropout?: number;
    /** Seed of A's Kaiming-uniform init (B = 0) and of the dropout masks; default 42. */
    seed?: number;
    /** Start from this GGUF adapter (same rank/targets/alpha) instead of the init. */
    initPath?: string;
  };
}

/** The AdamW step the addon takes: the trainers' StepOptions as they are. */
export type AddonAdamW = StepOptions;

export interface AddonPolicyInfo {
  architecture: string;
  layers: number;
  embedding: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  contextLength: number;
  tiedOutput: boolean;
  trainable: "lora" | "all";
  trainableParameters: number;
  /** AdamW steps taken (restored by loadCheckpoint). */
  step: number;
}

/** The native policy object. One slow call at a time (a second rejects with code "native.busy"). */
export interface AddonPolicy {
  /** log p(y_t | y_<t) of logits/temperature, [B][C_b]. */
  logprobs(batch: AddonSequence[], reference: boolean, temperature: number): Promise<Float32Array[]>;
  /** Adds ∇ Σ c·log p into the gradient buffers. */
  accumulate(
    batch: AddonSequence[],
    coefficients: Float32Array[],
    temperature: number,
  ): Promise<{ objective: number; logprobs: Float32Array[] }>;
  /** Clip + AdamW + zero grads; resolves to the pre-clip global gradient norm. */
  step(options: AddonAdamW): Promise<number>;
  saveWeights(path: string): Promise<void>;
  saveCheckpoint(path: string): Promise<void>;
  loadCheckpoint(path: string): Promise<void>;
  info(): AddonPolicyInfo;
  /** Names of the trainable tensors, e.g. "blk.0.attn_q.weight.lora_a" or "token_embd.weight". */
  trainableNames(): string[];
  /** Any model or LoRA tensor as f32 in ggml order. */
  getTensor(name: string): Float32Array;
  setTensor(name: string, values: Float32Array): void;
  /** The accumulated gradient of a trainable tensor. */
  getGrad(name: string): Float32Array;
  zeroGrad(): void;
  setThreads(threads: number): void;
  dispose(): void;
}

export interface NativeAddon {
  loadPolicy(options: AddonLoadOptions): Promise<AddonPolicy>;
  systemInfo(): { ggmlVersion: string; ggmlCommit: string };
}

const here = dirname(fileURLToPath(import.meta.url));

/** The package root: this file runs from trainers/native/ (tsx) or dist/trainers/native/ (compiled). */
function packageRoot(): string {
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "trainers", "native", "binding.gyp"))) return dir;
  }
  return resolve(here, "..", "..");
}

/** The built addon (buildNative.mjs writes it; build/ is not compiled into dist/). */
export const NATIVE_ADDON_PATH = join(packageRoot(), "trainers", "native", "build", "Release", "gl_rl_native.node");

/** node-llama-cpp's prebuilt ggml (the addon links it; the CPU backend variants are dlopen'ed from here). */
export function ggmlBinsDir(): string {
  const require = createRequire(import.meta.url);
  try {
    // The package exports only dist/index.js; bins/ sits beside dist/.
    return join(dirname(require.resolve("@node-llama-cpp/linux-x64")), "..", "bins", "linux-x64");
  } catch {
    return join(packageRoot(), "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
  }
}

let cached: NativeAddon | undefined;

/** Loads the addon once; NativeError "native.missing" with the build command when it is not built. */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(NATIVE_ADDON_PATH)) {
    throw new NativeError(
      "native.missing",
      `the native gradient extension is not built: ${NATIVE_ADDON_PATH} is missing`,
      {
        hint: "run `node trainers/native/buildNative.mjs` (npm install runs it; needs node-llama-cpp's linux-x64 prebuilt libraries)",
        context: { file: NATIVE_ADDON_PATH },
      },
    );
  }
  try {
    cached = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
  } catch (error) {
    throw new NativeError(
      "native.load",
      `the native gradient extension failed to load: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: "rebuild it with `node trainers/native/buildNative.mjs` after reinstalling node-llama-cpp",
        context: { file: NATIVE_ADDON_PATH },
        cause: error,
      },
    );
  }
  return cached;
}

const HINTS: Record<string, string> = {
  "native.file": "check the path",
  "native.gguf": "pass a GGUF model written by llama.cpp's converter or writeTinyModel",
  "native.arch": "use a qwen2 or qwen3 (dense) model",
  "native.shape": "use the model, LoRA rank and targets the file was written with",
  "native.input": "fix the argument named in the message",
  "native.memory": "use a smaller model, batch or LoRA rank",
  "native.busy": "await the previous call on this policy",
  "native.disposed": "create a new policy",
  "native.nan": "lower the learning rate or check the coefficients for NaN/Infinity",
  "native.write": "check that the directory exists and is writable",
};

/** Maps an addon error ({ code, message }) to a NativeError; other values pass through. */
export function toNativeError(error: unknown, context: Record<string, unknown> = {}): unknown {
  if (error instanceof NativeError) return error;
  // Duck-typed: the addon's Errors come from Node's main realm, which differs from jest's vm realm.
  const { code, message } = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  if (typeof code === "string" && code.startsWith("native.") && typeof message === "string") {
    return new NativeError(code, message, { hint: HINTS[code], context, cause: error });
  }
  return error;
}
