/**
 * Rewrites an f32 GGUF at a smaller precision, the way llama.cpp's `llama-quantize` stores it:
 *
 *   1. Matrices (≥ 2 dimensions) are converted; vectors (norm weights, biases) stay f32, as llama.cpp keeps them.
 *   2. f16: each value rounded to the nearest IEEE half (ties to even), 2 bytes per value.
 *      q8_0: blocks of 32 consecutive values along ne0; per block d = max|x| / 127 stored as f16, then
 *      32 signed bytes q = round(x / d) (half away from zero, as C's roundf): 34 bytes per 32 values —
 *      ggml's `quantize_row_q8_0_ref` byte for byte. A matrix whose ne0 is not a multiple of 32 stays f32.
 *   3. `general.file_type` says what the file mostly holds (llama.cpp's LLAMA_FTYPE: 0 f32, 1 f16, 7 q8_0);
 *      q8_0 files also get `general.quantization_version` 2. Extra metadata (e.g. a recipe key) is added.
 *   4. Written atomically (models/ggufFile.ts `writeGguf`: temp file + fsync + rename).
 *
 * Sizes of the tiny demo model (1.46 M parameters; docs/experiments.md): f32 6,368,320 bytes, f16 3,283,520,
 * q8_0 1,837,600 — of which the header (the trimmed vocabulary) is 190 KB.
 *
 * @example
 * quantizeGguf("model-f32.gguf", "model-q8_0.gguf", { precision: "q8_0" });
 */
import { InputError } from "../errors.js";
import { GGML_TYPE, gguf, readGguf, writeGguf, type GgufTensor, type GgufValue } from "./ggufFile.js";

export type GgufPrecision = "f32" | "f16" | "q8_0";
export const GGUF_PRECISIONS: readonly GgufPrecision[] = ["f32", "f16", "q8_0"];

/** llama.cpp's LLAMA_FTYPE for each precision (`general.file_type`). */
const FILE_TYPE: Record<GgufPrecision, number> = { f32: 0, f16: 1, q8_0: 7 };
const Q8_0_BLOCK = 32;

export interface QuantizeGgufOptions {
  precision: GgufPrecision;
  /** Metadata added to (or replacing keys of) the input's. */
  metadata?: Record<string, GgufValue>;
}

export interface QuantizeGgufResult {
  path: string;
  precision: GgufPrecision;
  /** File size in bytes. */
  bytes: number;
  /** Tensors converted / kept as f32. */
  converted: number;
  keptF32: number;
}

// ─── f16 ──────────────────────────────────────────────────────────────────────────────────────────────

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The IEEE 754 half (as its 16 bits) nearest to `value`, ties to even; ±Inf beyond 65504, NaN kept. */
export function float32ToFloat16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: m · 2^-24 with m = (1.mantissa as a 24-bit integer) >> (14 − e).
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++; // a carry rounds up into the exponent
  return sign | half;
}

/** The value of a half given as its 16 bits. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** f32 values → f16 bits, [n] → [n]. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]!);
  return out;
}

// ─── q8_0 ─────────────────────────────────────────────────────────────────────────────────────────────

/** C's roundf: half away from zero (Math.round sends −2.5 to −2). */
const roundHalfAwayFromZero = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

/** f32 values ([n], n a multiple of 32) → q8_0 blocks ([n / 32] × 34 bytes: f16 scale, 32 × int8). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0)
    throw new InputError(`q8_0: ${values.length} values are not a whole number of ${Q8_0_BLOCK}-value blocks`);
  const blocks = values.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * Q8_0_BLOCK, (b + 1) * Q8_0_BLOCK);
    let amax = 0;
    for (const v of x) amax = Math.max(amax, Math.abs(v));
    const d = amax / 127;
    const id = d !== 0 ? 1 / d : 0;
    view.setUint16(b * 34, float32ToFloat16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK; j++) view.setInt8(b * 34 + 2 + j, roundHalfAwayFromZero(x[j]! * id));
  }
  return out;
}

/** q8_0 blocks → f32 values (d · q), the inverse up to rounding. */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const blocks = bytes.length / 34;
  const out = new Float32Array(blocks * Q8_0_BLOCK);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < blocks; b++) {
    const d = float16BitsToFloat32(view.getUint16(b * 34, true));
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * view.getInt8(b * 34 + 2 + j);
  }
  return out;
}

// ─── the file ─────────────────────────────────────────────────────────────────────────────────────────

function convert(tensor: GgufTensor, precision: GgufPrecision): GgufTensor {
  const data = tensor.data as Float32Array;
  if (precision === "f32" || tensor.shape.length < 2) return tensor;
  if (precision === "f16") return { ...tensor, type: GGML_TYPE.F16, data: toFloat16(data) };
  if (tensor.shape[0]! % Q8_0_BLOCK !== 0) return tensor;
  return { ...tensor, type: GGML_TYPE.Q8_0, data: quantizeQ8_0(data) };
}

/** Writes `input` (an all-f32 GGUF) to `output` at `precision` (see the file comment). */
export function quantizeGguf(input: string, output: string, options: QuantizeGgufOptions): QuantizeGgufResult {
  if (!GGUF_PRECISIONS.includes(options.precision))
    throw new InputError(`unknown precision ${JSON.stringify(options.precision)}`, {
      hint: `use one of ${GGUF_PRECISIONS.join(", ")}`,
    });
  const file = readGguf(input, { data: true });
  const notF32 = file.tensors.find((t) => t.type !== GGML_TYPE.F32);
  if (notF32)
    throw new InputError(`${input}: tensor '${notF32.name}' is not f32 (ggml type ${notF32.type})`, {
      hint: "quantize from the f32 file the trainer writes",
    });
  const tensors = file.tensors.map((t) => convert(t, options.precision));
  const metadata = new Map(file.metadata);
  metadata.set("general.file_type", gguf.u32(FILE_TYPE[options.precision]));
  if (options.precision === "q8_0") metadata.set("general.quantization_version", gguf.u32(2));
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const bytes = writeGguf(output, { metadata, tensors });
  const converted = tensors.filter((t, i) => t !== file.tensors[i]).length;
  return { path: output, precision: options.precision, bytes, converted, keptF32: tensors.length - converted };
}
