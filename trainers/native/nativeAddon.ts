/**
 * The one file that types every export of the native gradient extension (gl_rl_native.node, built by
 * `node trainers/native/buildNative.mjs`) and loads it. Everything else goes through trainers/nativePolicy.ts.
 *
 * Loading (docs/native.md, "Finding ggml"): the addon links only libggml-base, by soname and without an rpath;
 * node-llama-cpp's addon for the chosen GPU build is loaded first (getLlama), which brings that variant's
 * libggml-base and backend registry into the process, and the extension then computes through that registry.
 * When the addon is not built (npm 11 skips a dependency's install script), the first load builds it: in the
 * package folder when writable, else in the cache dir (`GL_RL_CACHE_DIR`, default ~/.cache/gl-rl);
 * `GL_RL_NATIVE_DIR` names another folder (tests). Progress goes to stderr.
 *
 * Rejections and throws from the addon are plain Errors with a `code` ("native.gguf", "native.shape",
 * "native.input", "native.file", "native.memory", "native.busy", "native.disposed", …); `toNativeError`
 * turns them into NativeError with a hint.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, readdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { NativeError } from "../../errors.js";
import { getLlamaRuntime, type GpuChoice } from "../../models/llamaRuntime.js";
import { cacheDir, packageRoot } from "../../runtime/environment.js";
import type { StepOptions } from "../policyBackend.js";

/** One sequence of a batch: prompt + completion token ids; log-probs cover tokens[completionStart..]. */
export interface AddonSequence {
  tokens: Int32Array | number[];
  completionStart: number;
}

export interface AddonLoadOptions {
  /** A qwen2 or qwen3 (dense) GGUF: f32/f16/bf16/q8_0/q4_0/k-quant weights, kept in their type for LoRA. */
  modelPath: string;
  /** "lora" (default): LoRA A/B trainable, the model frozen; "all": every weight trainable (in f32). */
  trainable?: "lora" | "all";
  /** CPU threads for ggml (default 2). */
  threads?: number;
  /** The device: "auto" (default), "cpu", "cuda", "vulkan", "metal" (node-llama-cpp's loaded variant must have it). */
  gpu?: "auto" | "cpu" | "cuda" | "vulkan" | "metal";
  /** Sequences with one prompt in one row: "auto" (when cheaper, the default), "always", "never". */
  sharePrompts?: "auto" | "always" | "never";
  /** On the CPU, f32 matrix products through OpenBLAS's sgemm when libopenblas is installed (default true). */
  cpuBlas?: boolean;
  /** Positions the output head scores at once (its [V, m] tensors); default as many as fit 16 MiB. */
  headChunk?: number;
  /** Training: recompute each layer's activations in the backward from the layer's input (less memory). */
  recompute?: boolean;
  lora?: {
    /** r; default 8, or the adapter's (initPath). */
    rank?: number;
    /** Scale = alpha / r; default 16, or the adapter's. */
    alpha?: number;
    /** Default all seven, or the adapter's: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down. */
    targets?: string[];
    /** PEFT's lora_dropout on the LoRA branch input during accumulate (not logprobs); default 0. */
    dropout?: number;
    /** Seed of A's Kaiming-uniform init (B = 0) and of the dropout masks; default 42. */
    seed?: number;
    /** Start from this GGUF adapter: its rank, alpha and targets (given options must agree). */
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
  /** Where the graphs run: "CPU", "Vulkan0 (llvmpipe (LLVM 15.0.6, 256 bits))", "CUDA0 (NVIDIA H200)". */
  device: string;
  /** The BLAS library the CPU graphs' f32 products go through ("OpenBLAS 0.3.21 … (Cooperlake)"); null: ggml's kernels. */
  cpuBlas: string | null;
  /** Positions the output head scores at once. */
  headChunk: number;
  /** Share of the last graph's nodes the scheduler put on `device` (null before the first call). */
  deviceNodeShare: number | null;
  /** Backend splits of the last graph (1 = everything on one backend). */
  graphSplits: number;
  /** The scheduler's compute buffer on the device after the last graph, MiB (grows to the largest graph). */
  computeBufferMiB: number;
  /** With a GPU: the ops (ggml_op_desc) of the last graph's nodes the scheduler left on the CPU; [] = none. */
  cpuOps: string[];
  /** A GPU device's memory in use (by every user of the device) and its size; null on the CPU. */
  deviceMemory: { usedMiB: number; totalMiB: number } | null;
  /** The last call's layout: B sequences in R rows of T tokens (R < B: sequences shared a prompt row). */
  lastBatch: { sequences: number; rows: number; rowTokens: number };
  /** Forward and backward passes since load (a training call is one of each). */
  passes: { forward: number; backward: number };
  /** Weight tensors by type as held, e.g. { q8_0: 169, f32: 121 }. */
  weightTypes: Record<string, number>;
  /** The LoRA in effect (trainable "lora"): from the options or the adapter file. */
  lora?: { rank: number; alpha: number; targets: string[] };
}

/** The native policy object. One slow call at a time (a second rejects with code "native.busy"). */
export interface AddonPolicy {
  /** log p(y_t | y_<t) of logits/temperature, [B][C_b]; reference = the LoRA as loaded, frozen. */
  logprobs(batch: AddonSequence[], reference: boolean, temperature: number): Promise<Float32Array[]>;
  /** Adds ∇ Σ c·log p into the gradient accumulators; c given, or computed from this forward's log-probs. */
  accumulate(
    batch: AddonSequence[],
    coefficients: Float32Array[] | ((logprobs: Float32Array[]) => Float32Array[]),
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
  /** Any model or LoRA tensor as f32 in ggml order (quantized ones dequantized). */
  getTensor(name: string): Float32Array;
  /** Sets an f32 tensor. */
  setTensor(name: string, values: Float32Array): void;
  /** The accumulated gradient of a trainable tensor. */
  getGrad(name: string): Float32Array;
  zeroGrad(): void;
  setThreads(threads: number): void;
  dispose(): void;
}

export interface NativeAddon {
  loadPolicy(options: AddonLoadOptions): Promise<AddonPolicy>;
  /** ggml's version and the devices of the ggml registries loaded in this process. */
  systemInfo(): { ggmlVersion: string; ggmlCommit: string; devices: string[] };
  /** ggml's quantizer (as llama-quantize, no importance matrix): rows of `rowLength` values → `type` blocks. */
  quantize(values: Float32Array, type: string, rowLength: number): Uint8Array;
}

const SOURCE_DIR = join(packageRoot(), "trainers", "native");
const BUILD_SCRIPT = join(SOURCE_DIR, "buildNative.mjs");
const ADDON = join("build", "Release", "gl_rl_native.node");

/** The addon built in place by `npm install` / buildNative.mjs. */
export const NATIVE_ADDON_PATH = join(SOURCE_DIR, ADDON);

/** A folder per version of the sources, so that an upgraded package never loads a stale build from the cache. */
function cacheBuildDir(): string {
  const hash = createHash("sha256");
  for (const file of ["binding.gyp", ...readdirSync(join(SOURCE_DIR, "src")).map((f) => join("src", f))].sort()) {
    hash.update(file).update(readFileSync(join(SOURCE_DIR, file)));
  }
  return join(cacheDir(), "native", hash.digest("hex").slice(0, 16));
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What decides where the addon lives. */
export interface AddonPlaces {
  /** GL_RL_NATIVE_DIR. */
  override: string | undefined;
  /** Built in place (npm install's script ran, or a previous first use). */
  builtInPlace: boolean;
  /** The package's trainers/native folder can be written. */
  packageWritable: boolean;
  /** The cache folder of this version of the sources, and whether the addon is built there. */
  cacheDir: string;
  builtInCache: boolean;
}

/**
 * Where the addon is, or will be built (buildDir undefined = in place): GL_RL_NATIVE_DIR when set; else the
 * in-place build; else the cache's; else in place when the package folder is writable, the cache otherwise.
 */
export function addonLocation(p: AddonPlaces): { path: string; buildDir: string | undefined } {
  if (p.override) return { path: join(p.override, ADDON), buildDir: p.override };
  if (p.builtInPlace) return { path: NATIVE_ADDON_PATH, buildDir: undefined };
  if (p.builtInCache || !p.packageWritable) return { path: join(p.cacheDir, ADDON), buildDir: p.cacheDir };
  return { path: NATIVE_ADDON_PATH, buildDir: undefined };
}

/** addonLocation() for this process and file system. */
export function nativeAddonPath(): { path: string; buildDir: string | undefined } {
  const override = process.env.GL_RL_NATIVE_DIR || undefined;
  const builtInPlace = existsSync(NATIVE_ADDON_PATH);
  const cached = override || builtInPlace ? "" : cacheBuildDir();
  return addonLocation({
    override,
    builtInPlace,
    packageWritable: writable(SOURCE_DIR),
    cacheDir: cached,
    builtInCache: cached !== "" && existsSync(join(cached, ADDON)),
  });
}

/** Builds the addon into `buildDir` (or in place) with progress on stderr; NativeError "native.build" on failure. */
function buildAddon(buildDir: string | undefined, path: string): void {
  process.stderr.write(`[gl-rl] the native gradient extension is not built; building it now (${path})\n`);
  try {
    execFileSync(process.execPath, [BUILD_SCRIPT, "--strict", ...(buildDir ? ["--out", buildDir] : [])], {
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch (error) {
    throw new NativeError("native.build", `building the native gradient extension failed: ${path} is missing`, {
      hint: "install a C++17 compiler, make and python3, then run `node trainers/native/buildNative.mjs` in the gl-rl package (its stderr says what failed)",
      context: { file: path },
      cause: error,
    });
  }
}

let cached: Promise<NativeAddon> | undefined;

/**
 * Loads node-llama-cpp for `gpu` (its ggml variant and backend registry), then — once per process — the addon,
 * building it first when it is missing. Each policy's devices come from the registry of its `gpu` choice.
 */
export async function loadNativeAddon(gpu: GpuChoice = "auto"): Promise<NativeAddon> {
  // node-llama-cpp's variant first: its libggml-base is the one the addon's soname link resolves to.
  await getLlamaRuntime(gpu);
  cached ??= (async () => {
    const { path, buildDir } = nativeAddonPath();
    if (!existsSync(path)) buildAddon(buildDir, path);
    try {
      return createRequire(import.meta.url)(path) as NativeAddon;
    } catch (error) {
      throw new NativeError(
        "native.load",
        `the native gradient extension failed to load: ${error instanceof Error ? error.message : String(error)}`,
        {
          hint: "rebuild it with `node trainers/native/buildNative.mjs` after reinstalling node-llama-cpp",
          context: { file: path },
          cause: error,
        },
      );
    }
  })();
  cached.catch(() => {
    cached = undefined;
  });
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
  "native.backend": 'use gpu "auto" or "cpu", or install the node-llama-cpp build for your GPU',
  "native.compute": 'retry on gpu "cpu"; if it persists, report it with the device name',
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
