/**
 * A quantized copy of an f32 Qwen2 GGUF, written with ggml's own quantizers (the ones llama-quantize uses, no
 * importance matrix) — k-quants included — for the tests and benchmarks of training on quantized weights.
 *
 *   1. Vectors (norms, biases) stay f32, as llama.cpp keeps them.
 *   2. Matrices get `recipe`'s type; "q4_K_M" is llama.cpp's mix in short: q6_K for attn_v, ffn_down and the
 *      output head (token_embd when tied), q4_K elsewhere.
 *   3. A matrix whose rows do not divide into the type's blocks (k-quants: 256 values) falls back to q8_0 (rows of
 *      32), else f16 — as llama-quantize falls back for such tensors.
 *
 * @example
 * const { types } = await quantizeModel("tiny-f32.gguf", "tiny-q4_K_M.gguf", "q4_K_M"); // { q4_K: 9, q6_K: 5, f32: 8 }
 */
import { GGML_TYPE, readGguf, writeGguf, type GgufTensor } from "../../models/ggufFile.js";
import { loadNativeAddon } from "./nativeAddon.js";

export type QuantType = "f16" | "q8_0" | "q4_0" | "q5_0" | "q4_K" | "q5_K" | "q6_K";
export type QuantRecipe = QuantType | "q4_K_M";

const TYPE_ID: Record<QuantType, number> = {
  f16: GGML_TYPE.F16,
  q8_0: GGML_TYPE.Q8_0,
  q4_0: GGML_TYPE.Q4_0,
  q5_0: GGML_TYPE.Q5_0,
  q4_K: GGML_TYPE.Q4_K,
  q5_K: GGML_TYPE.Q5_K,
  q6_K: GGML_TYPE.Q6_K,
};
const BLOCK: Record<QuantType, number> = { f16: 1, q8_0: 32, q4_0: 32, q5_0: 32, q4_K: 256, q5_K: 256, q6_K: 256 };
/** llama.cpp's LLAMA_FTYPE of each recipe (`general.file_type`). */
const FILE_TYPE: Record<QuantRecipe, number> = {
  f16: 1,
  q8_0: 7,
  q4_0: 2,
  q5_0: 8,
  q4_K: 15,
  q5_K: 17,
  q6_K: 18,
  q4_K_M: 15,
};

function typeFor(recipe: QuantRecipe, name: string, tied: boolean): QuantType {
  if (recipe !== "q4_K_M") return recipe;
  const head = name === "output.weight" || (tied && name === "token_embd.weight");
  return head || name.endsWith(".attn_v.weight") || name.endsWith(".ffn_down.weight") ? "q6_K" : "q4_K";
}

/** Writes `output`; returns how many tensors got each type. */
export async function quantizeModel(
  input: string,
  output: string,
  recipe: QuantRecipe,
): Promise<{ types: Record<string, number> }> {
  const addon = await loadNativeAddon("cpu");
  const source = readGguf(input, { data: true });
  const tied = !source.tensors.some((t) => t.name === "output.weight");
  const types: Record<string, number> = {};
  const tensors: GgufTensor[] = source.tensors.map((t) => {
    if (t.shape.length < 2 || t.type !== GGML_TYPE.F32) {
      types.f32 = (types.f32 ?? 0) + 1;
      return t;
    }
    let type = typeFor(recipe, t.name, tied);
    if (t.shape[0]! % BLOCK[type] !== 0) type = t.shape[0]! % 32 === 0 ? "q8_0" : "f16";
    types[type] = (types[type] ?? 0) + 1;
    return { ...t, type: TYPE_ID[type], data: addon.quantize(t.data as Float32Array, type, t.shape[0]!) };
  });
  const metadata = new Map(source.metadata);
  metadata.set("general.file_type", { type: "u32", value: FILE_TYPE[recipe] });
  metadata.set("general.quantization_version", { type: "u32", value: 2 });
  writeGguf(output, { metadata, tensors });
  return { types };
}
