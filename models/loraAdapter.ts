/**
 * GGUF LoRA adapters exactly as llama.cpp reads them (docs/native.md):
 *   metadata  general.type = "adapter", general.architecture = "qwen2", adapter.type = "lora",
 *             adapter.lora.alpha (f32); effective scale = alpha / r (times the context's adapter scale)
 *   tensors   blk.N.<name>.weight.lora_a  ggml [n_in, r]   (r rows of n_in: PEFT's A as it is)
 *             blk.N.<name>.weight.lora_b  ggml [r, n_out]  (n_out rows of r: PEFT's B)
 *   for a base weight W of ggml shape [n_in, n_out]: W' = W + scale · (B A), i.e. y = W x + scale · B (A x).
 * A tied head (no output.weight in the model) cannot take a LoRA. Every tensor is f32.
 */
import { mulberry32 } from "../runtime/mulberry32.js";
import { ModelError } from "../errors.js";
import {
  GGML_TYPE,
  gguf,
  ggufNumber,
  ggufString,
  readGguf,
  writeGguf,
  type GgufFile,
  type GgufTensor,
  type GgufValue,
} from "./ggufFile.js";

/** One adapted weight. */
export interface LoraPair {
  /** [n_in, r] in ggml order: r rows of n_in floats. */
  a: Float32Array;
  /** [r, n_out] in ggml order: n_out rows of r floats. */
  b: Float32Array;
  nIn: number;
  nOut: number;
}

export interface LoraAdapter {
  /** Base architecture, "qwen2". */
  architecture: string;
  rank: number;
  alpha: number;
  /** Keyed by the base weight's name, e.g. "blk.0.attn_q.weight". */
  tensors: Map<string, LoraPair>;
}

function adapterError(path: string, what: string, hint: string, context: Record<string, unknown> = {}): ModelError {
  return new ModelError("adapter.invalid", `LoRA adapter ${path}: ${what}`, {
    hint,
    context: { file: path, ...context },
  });
}

/** Writes an adapter GGUF atomically; returns its size in bytes. */
export function writeLoraAdapter(path: string, adapter: LoraAdapter): number {
  const tensors: GgufTensor[] = [];
  for (const [name, pair] of adapter.tensors) {
    if (pair.a.length !== pair.nIn * adapter.rank || pair.b.length !== adapter.rank * pair.nOut) {
      throw adapterError(
        path,
        `${name}: A has ${pair.a.length} floats (expected ${pair.nIn}×${adapter.rank}), B has ${pair.b.length} (expected ${adapter.rank}×${pair.nOut})`,
        "A is [n_in, r] and B is [r, n_out] in ggml order",
      );
    }
    tensors.push({ name: `${name}.lora_a`, shape: [pair.nIn, adapter.rank], type: GGML_TYPE.F32, data: pair.a });
    tensors.push({ name: `${name}.lora_b`, shape: [adapter.rank, pair.nOut], type: GGML_TYPE.F32, data: pair.b });
  }
  const metadata = new Map<string, GgufValue>([
    ["general.type", gguf.string("adapter")],
    ["general.architecture", gguf.string(adapter.architecture)],
    ["adapter.type", gguf.string("lora")],
    ["adapter.lora.alpha", gguf.f32(adapter.alpha)],
  ]);
  return writeGguf(path, { metadata, tensors });
}

/** Reads and checks an adapter GGUF (metadata, pairing and shapes); ModelError naming the file otherwise. */
export function readLoraAdapter(path: string): LoraAdapter {
  let file: GgufFile;
  try {
    file = readGguf(path, { data: true });
  } catch (error) {
    if (error instanceof ModelError) {
      throw new ModelError("adapter.invalid", `LoRA adapter ${error.message}`, {
        hint: "write the adapter again (writeLoraAdapter) or pass another file",
        context: { file: path },
        cause: error,
      });
    }
    throw error;
  }
  if (ggufString(file, "general.type") !== "adapter" || ggufString(file, "adapter.type") !== "lora") {
    throw adapterError(
      path,
      `not a LoRA adapter (general.type=${ggufString(file, "general.type")}, adapter.type=${ggufString(file, "adapter.type")})`,
      "a LoRA GGUF has general.type=adapter and adapter.type=lora",
    );
  }
  const architecture = ggufString(file, "general.architecture") ?? "";
  const alpha = ggufNumber(file, "adapter.lora.alpha") ?? 0;
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const tensors = new Map<string, LoraPair>();
  let rank = 0;
  for (const t of file.tensors) {
    if (!t.name.endsWith(".lora_a")) continue;
    const base = t.name.slice(0, -".lora_a".length);
    const b = byName.get(`${base}.lora_b`);
    if (!b) throw adapterError(path, `${t.name} has no matching ${base}.lora_b`, "every lora_a needs its lora_b");
    if (t.type !== GGML_TYPE.F32 || b.type !== GGML_TYPE.F32)
      throw adapterError(path, `${base}: only f32 LoRA tensors are supported`, "write the adapter in f32");
    const [nIn, r] = t.shape as [number, number];
    const [rb, nOut] = b.shape as [number, number];
    if (t.shape.length !== 2 || b.shape.length !== 2 || r !== rb) {
      throw adapterError(
        path,
        `${base}: lora_a [${t.shape}] and lora_b [${b.shape}] do not pair as [n_in, r] and [r, n_out]`,
        "A is [n_in, r] and B is [r, n_out] in ggml order",
      );
    }
    if (rank && r !== rank)
      throw adapterError(path, `${base} has rank ${r}, other tensors ${rank}`, "use one rank for every tensor");
    rank = r;
    tensors.set(base, { a: t.data as Float32Array, b: b.data as Float32Array, nIn, nOut });
  }
  for (const t of file.tensors) {
    if (t.name.endsWith(".lora_b") && !tensors.has(t.name.slice(0, -".lora_b".length)))
      throw adapterError(path, `${t.name} has no matching lora_a`, "every lora_b needs its lora_a");
  }
  if (tensors.size === 0)
    throw adapterError(path, "holds no lora_a/lora_b tensors", "train or write an adapter with at least one pair");
  return { architecture, rank, alpha, tensors };
}

/**
 * Checks an adapter against a model's tensors: same architecture, every base weight exists with shape
 * [n_in, n_out]. Throws a ModelError naming the file and the first mismatch.
 */
export function checkLoraAdapterFits(
  path: string,
  adapter: LoraAdapter,
  model: { architecture: string; tensors: Map<string, number[]> },
): void {
  if (adapter.architecture !== model.architecture) {
    throw adapterError(
      path,
      `architecture ${adapter.architecture || "(none)"} does not match the model's ${model.architecture}`,
      "use an adapter trained for this model",
      { adapter: adapter.architecture, model: model.architecture },
    );
  }
  for (const [name, pair] of adapter.tensors) {
    const shape = model.tensors.get(name);
    if (!shape) {
      const hint =
        name === "output.weight"
          ? "this model ties its head to the embedding: a LoRA on output.weight is impossible"
          : "the adapter names a weight this model does not have";
      throw adapterError(path, `the model has no tensor ${name}`, hint, { tensor: name });
    }
    if (shape[0] !== pair.nIn || shape[1] !== pair.nOut) {
      throw adapterError(
        path,
        `${name} is [${shape.join(", ")}] in the model but the adapter expects [${pair.nIn}, ${pair.nOut}]`,
        "use an adapter trained for this model's dimensions",
        { tensor: name },
      );
    }
  }
}

/** The seven LoRA targets of every layer of a model file (attention q/k/v/output, ffn gate/up/down): name → [n_in, n_out]. */
export function loraTargetShapes(modelPath: string): Map<string, number[]> {
  const targets = new Map<string, number[]>();
  for (const t of readGguf(modelPath, { data: false }).tensors)
    if (/^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$/.test(t.name))
      targets.set(t.name, t.shape);
  return targets;
}

/**
 * A zero-initialised-B adapter (PEFT's init: A random, B = 0, so it starts as the identity) for the given
 * weights of a model. `init` fills A (and B when `bStd` > 0) from a seeded generator.
 */
export function createLoraAdapter(options: {
  architecture?: string;
  rank: number;
  alpha: number;
  targets: Map<string, number[]>;
  seed?: number;
  aStd?: number;
  bStd?: number;
}): LoraAdapter {
  const random = mulberry32(options.seed ?? 0);
  const uniform = (): number => random() - 0.5;
  const tensors = new Map<string, LoraPair>();
  for (const [name, shape] of options.targets) {
    const [nIn, nOut] = shape as [number, number];
    const a = new Float32Array(nIn * options.rank).map(() => uniform() * 2 * Math.sqrt(3) * (options.aStd ?? 0.02));
    const b = new Float32Array(options.rank * nOut).map(() =>
      options.bStd ? uniform() * 2 * Math.sqrt(3) * options.bStd : 0,
    );
    tensors.set(name, { a, b, nIn, nOut });
  }
  return { architecture: options.architecture ?? "qwen2", rank: options.rank, alpha: options.alpha, tensors };
}
