/**
 * NativePolicy: the PolicyBackend (trainers/policyBackend.ts) backed by the native gradient extension —
 * a Qwen2/Qwen3 GGUF trained in ggml on the CPU or a GPU (CUDA, Vulkan, Metal: the ggml build node-llama-cpp
 * loads for `gpu`), either through LoRA adapters on the frozen weights as the file stores them (f32, f16,
 * q8_0, k-quants) or, for the tiny demo model, every weight. docs/native.md describes the extension.
 *
 * What it computes (trainers/native/src/qwen2Graph.cpp states the graph):
 *   - logprobs: log softmax(logits / T)[y_t] of every completion token; `reference: true` = the policy as
 *     loaded, frozen (base + `lora.initPath`; the base for a fresh LoRA).
 *   - accumulateGradients: adds ∇θ Σ_b Σ_t c[b][t]·log π_θ(y_t | y_<t) to gradient accumulators on the
 *     device; c given, or computed by a function from the same forward's log-probs (one forward, one
 *     backward). Sequences that share a prompt are packed into one row when that is cheaper.
 *   - step: global-norm clip, PyTorch AdamW (decoupled weight decay, bias correction) on the device, zero
 *     gradients.
 *   - saveWeights: a LoRA GGUF as llama.cpp/node-llama-cpp load it, or the full f32 model for "all";
 *     checkpoints hold trainables + AdamW moments + step. Every file is written to a temp name and renamed.
 * Calls are queued: the addon runs one at a time per policy, off the main thread.
 *
 * @example
 * const policy = await NativePolicy.create({ modelPath: "tiny.gguf", trainable: "lora", lora: { rank: 8, alpha: 16 } });
 * const batch = [{ tokens: [1, 2, 3, 4], completionStart: 2 }];
 * const { objective } = await policy.accumulateGradients(batch, [new Float32Array([-0.5, -0.5])]);
 * await policy.step({ learningRate: 1e-3, maxGradNorm: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
 * await policy.saveWeights("adapter.gguf");
 * await policy.dispose();
 */
import { InputError } from "../errors.js";
import { defaultCpuThreads } from "../runtime/environment.js";
import { ggufNumber, ggufString, readGguf } from "../models/ggufFile.js";
import { loadNativeAddon, toNativeError, type AddonPolicy, type AddonPolicyInfo } from "./native/nativeAddon.js";
import type { CoefficientFunction, PolicyBackend, StepOptions, TokenSequence } from "./policyBackend.js";

/** Where a policy computes: node-llama-cpp's `gpu` choices; "cpu" = node-llama-cpp's `gpu: false`. */
export type PolicyDevice = "auto" | "cpu" | "cuda" | "vulkan" | "metal";

export interface NativePolicyOptions {
  /** The base model GGUF (qwen2 / qwen3 dense). */
  modelPath: string;
  /** "lora" (default) or "all" (every weight; for small models). */
  trainable?: "lora" | "all";
  lora?: {
    /** r; default by model size (defaultLoraHyperparameters): 64 for real Qwen models, 8 for the tiny one. */
    rank?: number;
    /** Scale alpha/r; default 128 for real Qwen models, 16 for the tiny one. */
    alpha?: number;
    /** Adapted weights; default all seven: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down. */
    targets?: string[];
    /**
     * PEFT's lora_dropout: the LoRA branch sees dropout(x) in accumulateGradients (masks drawn from seed, step and
     * call index, so a resumed run draws the same ones); logprobs() never drops (eval mode). Default 0.1 for real
     * Qwen models, 0 for the tiny one.
     */
    dropout?: number;
    /** Seed of A's init (B = 0) and of the dropout masks, default 42. */
    seed?: number;
    /**
     * Start from an adapter GGUF: rank (tensor shapes), alpha (`adapter.lora.alpha`) and targets (tensor names)
     * come from the file — given options must agree — and it is the frozen reference of `logprobs({ reference })`.
     */
    initPath?: string;
  };
  /** ggml CPU threads; default `GL_RL_THREADS` or the physical cores (runtime/environment.ts): oversubscribed ggml threads spin. */
  threads?: number;
  /**
   * The device, default "auto" (node-llama-cpp's meaning: its best installed build — CUDA, Vulkan, Metal — and
   * that build's GPU when it sees one, else the CPU). "cpu" never touches a GPU; "cuda" | "vulkan" | "metal"
   * fail (NativeError "native.backend" / ModelError "model.backend") when that device is missing.
   */
  gpu?: PolicyDevice;
  /**
   * Sequences with the same prompt (tokens[0:completionStart]) computed as one row — the prompt once, then each
   * completion — when the cost model says it is cheaper ("auto", default); "always" / "never" force it.
   */
  sharePrompts?: "auto" | "always" | "never";
  /**
   * On the CPU, f32 matrix products (an f32 model's forward and its frozen-weight backward) through OpenBLAS's
   * sgemm when libopenblas is installed (`apt-get install libopenblas0`); default true. `info().cpuBlas` names
   * the library in use; false keeps ggml's own kernels (same results to rounding).
   */
  cpuBlas?: boolean;
  /**
   * Positions the output head scores at once: its [V, m] probabilities and their gradient live one chunk at a time.
   * Default: as many as fit 16 MiB (27 for Qwen's 151,936-token vocabulary). Results do not depend on it.
   */
  headChunk?: number;
  /**
   * Recompute each layer's activations in the backward from the layer's input instead of keeping them from the
   * forward: the compute buffer holds the layers' inputs and one layer's activations instead of every layer's
   * (docs/native.md, "Activation recompute"). Same gradients; a second forward's compute. Default false.
   */
  recompute?: boolean;
}

export type NativePolicyInfo = AddonPolicyInfo;

/**
 * LoRA hyperparameters by model size, as the original design: r = 64, alpha = 128, dropout 0.1 for real
 * Qwen models; r = 8, alpha = 16, no dropout for small ones (embedding < 512, the tiny demo model).
 */
export function defaultLoraHyperparameters(embeddingLength: number): { rank: number; alpha: number; dropout: number } {
  return embeddingLength >= 512 ? { rank: 64, alpha: 128, dropout: 0.1 } : { rank: 8, alpha: 16, dropout: 0 };
}

/** The caller's LoRA options over the size defaults (not when starting from a file, whose shapes rule). */
function withLoraDefaults(options: NativePolicyOptions): NativePolicyOptions["lora"] {
  const given = options.lora ?? {};
  if ((options.trainable ?? "lora") !== "lora" || given.initPath !== undefined) return options.lora;
  let embedding = 0;
  try {
    const header = readGguf(options.modelPath, { data: false });
    const architecture = ggufString(header, "general.architecture") ?? "qwen2";
    embedding = ggufNumber(header, `${architecture}.embedding_length`) ?? 0;
  } catch {
    return options.lora; // the addon reports the bad file with its context
  }
  const defaults = defaultLoraHyperparameters(embedding);
  return {
    ...given,
    rank: given.rank ?? defaults.rank,
    alpha: given.alpha ?? defaults.alpha,
    dropout: given.dropout ?? defaults.dropout,
  };
}

export class NativePolicy implements PolicyBackend {
  readonly trainable: "lora" | "all";
  #native: AddonPolicy | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #modelPath: string;

  private constructor(native: AddonPolicy, modelPath: string) {
    this.#native = native;
    this.#modelPath = modelPath;
    this.trainable = native.info().trainable;
  }

  /** Loads the model onto the device and creates the LoRA tensors; rejects with NativeError on a bad file. */
  static async create(options: NativePolicyOptions): Promise<NativePolicy> {
    if (typeof options.modelPath !== "string" || options.modelPath === "") {
      throw new InputError("NativePolicy: modelPath is required", { hint: "pass the path of a qwen2 GGUF model" });
    }
    const gpu = options.gpu ?? "auto";
    const addon = await loadNativeAddon(gpu);
    try {
      const native = await addon.loadPolicy({
        modelPath: options.modelPath,
        trainable: options.trainable ?? "lora",
        threads: options.threads ?? defaultCpuThreads(),
        gpu,
        sharePrompts: options.sharePrompts ?? "auto",
        cpuBlas: options.cpuBlas ?? true,
        ...(options.headChunk === undefined ? {} : { headChunk: options.headChunk }),
        ...(options.recompute ? { recompute: true } : {}),
        lora: withLoraDefaults(options),
      });
      return new NativePolicy(native, options.modelPath);
    } catch (error) {
      throw toNativeError(error, { file: options.modelPath });
    }
  }

  /**
   * Architecture, dimensions, trainable parameter count, AdamW step count, the LoRA in effect, the device
   * ("CPU", "Vulkan0 (llvmpipe …)", "CUDA0 (NVIDIA H200)") and the share of the last graph's nodes it ran.
   */
  info(): NativePolicyInfo {
    return this.#raw().info();
  }

  /** The device and the share of the last graph's nodes on it (PolicyBackend.deviceInfo). */
  deviceInfo(): { device: string; nodeShare: number | null } {
    const { device, deviceNodeShare } = this.#raw().info();
    return { device, nodeShare: deviceNodeShare };
  }

  logprobs(
    batch: TokenSequence[],
    options: { reference?: boolean; temperature?: number } = {},
  ): Promise<Float32Array[]> {
    return this.#enqueue((native) => native.logprobs(batch, options.reference ?? false, options.temperature ?? 1));
  }

  accumulateGradients(
    batch: TokenSequence[],
    coefficients: Float32Array[] | CoefficientFunction,
    options: { temperature?: number } = {},
  ): Promise<{ objective: number; logprobs: Float32Array[] }> {
    return this.#enqueue((native) => native.accumulate(batch, coefficients, options.temperature ?? 1));
  }

  async step(options: StepOptions): Promise<{ gradNorm: number }> {
    const gradNorm = await this.#enqueue((native) => native.step(options));
    return { gradNorm };
  }

  saveWeights(path: string): Promise<void> {
    return this.#enqueue((native) => native.saveWeights(path), { file: path });
  }

  saveCheckpoint(path: string): Promise<void> {
    return this.#enqueue((native) => native.saveCheckpoint(path), { file: path });
  }

  loadCheckpoint(path: string): Promise<void> {
    return this.#enqueue((native) => native.loadCheckpoint(path), { file: path });
  }

  /** Trainable tensor names (LoRA: "blk.N.<target>.weight.lora_a|lora_b"; all: the model's tensor names). */
  trainableNames(): string[] {
    return this.#raw().trainableNames();
  }

  /** Any weight or LoRA tensor, f32 in ggml order (for tests and inspection). */
  getTensor(name: string): Float32Array {
    return this.#sync(() => this.#raw().getTensor(name));
  }

  setTensor(name: string, values: Float32Array): void {
    this.#sync(() => this.#raw().setTensor(name, values));
  }

  /** The gradient accumulated since the last step, of one trainable tensor. */
  getGrad(name: string): Float32Array {
    return this.#sync(() => this.#raw().getGrad(name));
  }

  zeroGrad(): void {
    this.#raw().zeroGrad();
  }

  setThreads(threads: number): void {
    this.#sync(() => this.#raw().setThreads(threads));
  }

  async dispose(): Promise<void> {
    await this.#queue.catch(() => undefined);
    this.#native?.dispose();
    this.#native = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #raw(): AddonPolicy {
    if (!this.#native)
      throw toNativeError(
        Object.assign(new Error(`policy of ${this.#modelPath} was disposed`), { code: "native.disposed" }),
      );
    return this.#native;
  }

  #sync<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toNativeError(error, { file: this.#modelPath });
    }
  }

  #enqueue<T>(fn: (native: AddonPolicy) => Promise<T>, context: Record<string, unknown> = {}): Promise<T> {
    const run = this.#queue
      .catch(() => undefined)
      .then(async () => {
        try {
          return await fn(this.#raw());
        } catch (error) {
          throw toNativeError(error, { model: this.#modelPath, ...context });
        }
      });
    this.#queue = run;
    return run;
  }
}
