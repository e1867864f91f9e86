import { afterAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mulberry32 } from "../runtime/mulberry32.js";
import { GGML_TYPE, gguf, ggufNumber, ggufString, readGguf, writeGguf } from "./ggufFile.js";
import {
  dequantizeQ8_0,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  quantizeGguf,
  quantizeQ8_0,
  toFloat16,
} from "./quantizeGguf.js";

const dir = mkdtempSync(join(tmpdir(), "quantize-gguf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("f32 → f16", () => {
  test.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // the largest half
    [65519, 0x7bff], // below the midpoint to 65536: rounds down
    [65520, 0x7c00], // the midpoint: ties to even = Infinity
    [1e9, 0x7c00],
    [-1e9, 0xfc00],
    [2 ** -14, 0x0400], // the smallest normal
    [2 ** -24, 0x0001], // the smallest subnormal
    [2 ** -25, 0x0000], // half of it: ties to even = 0
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: ties to even = 2
    [2 ** -26, 0x0000],
    [1 + 2 ** -11, 0x3c00], // midway between 1 and the next half: ties to even = 1
    [1 + 3 * 2 ** -11, 0x3c02], // midway between the 1st and 2nd step: ties to even = 2nd
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the midpoint
    [0, 0x0000],
    [-0, 0x8000],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
  ])("%p → 0x%s", (value, bits) => {
    expect(float32ToFloat16Bits(value).toString(16)).toBe(bits.toString(16));
  });

  test("NaN stays NaN", () => {
    const bits = float32ToFloat16Bits(Number.NaN);
    expect((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0).toBe(true);
    expect(float16BitsToFloat32(bits)).toBeNaN();
  });

  test("every finite half round-trips, and random values go to the nearest half", () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // Inf / NaN
      expect(float32ToFloat16Bits(float16BitsToFloat32(h))).toBe(h === 0x8000 ? 0x8000 : h);
    }
    const random = mulberry32(3);
    for (let i = 0; i < 20000; i++) {
      const x = (random() - 0.5) * 2 ** Math.floor(random() * 40 - 25);
      const h = float32ToFloat16Bits(x);
      const error = Math.abs(float16BitsToFloat32(h) - Math.fround(x));
      for (const neighbour of [h - 1, h + 1]) {
        if ((neighbour & 0x7fff) >= 0x7c00 || neighbour < 0 || (h & 0x7fff) === 0) continue;
        expect(error).toBeLessThanOrEqual(Math.abs(float16BitsToFloat32(neighbour) - Math.fround(x)));
      }
    }
  });
});

describe("q8_0 blocks", () => {
  test("layout: f16 scale max|x|/127, then 32 signed bytes round(x / d)", () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => j - 16); // max |x| = 16
    const bytes = quantizeQ8_0(x);
    expect(bytes.length).toBe(34);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(0, true)).toBe(float32ToFloat16Bits(16 / 127));
    for (let j = 0; j < 32; j++)
      expect(view.getInt8(2 + j)).toBe(Math.sign(j - 16) * Math.round((Math.abs(j - 16) * 127) / 16));
    expect(view.getInt8(2)).toBe(-127);
  });

  test("halves round away from zero, as C's roundf (not as Math.round)", () => {
    const x = new Float32Array(32);
    x[0] = 127; // d = 1
    x[1] = -2.5;
    x[2] = 2.5;
    x[3] = -0.5;
    const view = new DataView(quantizeQ8_0(x).buffer);
    expect([view.getInt8(3), view.getInt8(4), view.getInt8(5)]).toEqual([-3, 3, -1]);
  });

  test("an all-zero block has scale 0; dequantized values are within half a step (+ the f16 scale's rounding)", () => {
    expect(Array.from(dequantizeQ8_0(quantizeQ8_0(new Float32Array(64))))).toEqual(new Array(64).fill(0));
    const random = mulberry32(11);
    const x = Float32Array.from({ length: 32 * 8 }, () => (random() - 0.5) * 0.2);
    const back = dequantizeQ8_0(quantizeQ8_0(x));
    for (let b = 0; b < 8; b++) {
      const block = x.subarray(b * 32, (b + 1) * 32);
      const step = Math.max(...Array.from(block, Math.abs)) / 127;
      // |q| ≤ 127 steps, and the f16 scale is off by at most 2^-11 of itself.
      const bound = step * (0.5 + 127 * 2 ** -11);
      for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j]! - block[j]!)).toBeLessThanOrEqual(bound);
    }
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/whole number of 32-value blocks/);
  });
});

describe("quantizeGguf", () => {
  const random = mulberry32(5);
  const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
  const input = join(dir, "in.gguf");
  const original = {
    matrix: values(64 * 3), // [64, 3]
    odd: values(40 * 2), // [40, 2]: ne0 not a multiple of 32
    vector: values(64),
  };
  writeGguf(input, {
    metadata: new Map([
      ["general.architecture", gguf.string("qwen2")],
      ["general.file_type", gguf.u32(0)],
    ]),
    tensors: [
      { name: "m.weight", shape: [64, 3], type: GGML_TYPE.F32, data: original.matrix },
      { name: "odd.weight", shape: [40, 2], type: GGML_TYPE.F32, data: original.odd },
      { name: "norm.weight", shape: [64], type: GGML_TYPE.F32, data: original.vector },
    ],
  });

  test("q8_0: matrices quantized, vectors and odd widths f32, file type and extra metadata set", () => {
    const out = join(dir, "q8.gguf");
    const result = quantizeGguf(input, out, { precision: "q8_0", metadata: { "x.key": gguf.string("abc") } });
    expect(result).toMatchObject({ precision: "q8_0", converted: 1, keptF32: 2 });
    const file = readGguf(out, { data: true });
    expect(file.tensors.map((t) => t.type)).toEqual([GGML_TYPE.Q8_0, GGML_TYPE.F32, GGML_TYPE.F32]);
    expect(ggufNumber(file, "general.file_type")).toBe(7);
    expect(ggufNumber(file, "general.quantization_version")).toBe(2);
    expect(ggufString(file, "x.key")).toBe("abc");
    expect(ggufString(file, "general.architecture")).toBe("qwen2");
    const back = dequantizeQ8_0(file.tensors[0]!.data as Uint8Array);
    for (let i = 0; i < back.length; i++)
      expect(Math.abs(back[i]! - original.matrix[i]!)).toBeLessThan(0.5 / 127 + 1e-4);
    expect(Array.from(file.tensors[2]!.data as Float32Array)).toEqual(Array.from(original.vector));
    expect(result.bytes).toBe(statSync(out).size);
    // [64, 3] f32 = 768 bytes → 6 blocks × 34 = 204 bytes; the added metadata and alignment take < 100.
    expect(statSync(input).size - result.bytes).toBeGreaterThan(768 - 204 - 100);
  });

  test("f16: every matrix converted, vectors f32", () => {
    const out = join(dir, "f16.gguf");
    expect(quantizeGguf(input, out, { precision: "f16" })).toMatchObject({ converted: 2, keptF32: 1 });
    const file = readGguf(out, { data: true });
    expect(file.tensors.map((t) => t.type)).toEqual([GGML_TYPE.F16, GGML_TYPE.F16, GGML_TYPE.F32]);
    expect(ggufNumber(file, "general.file_type")).toBe(1);
    expect(Array.from(file.tensors[1]!.data as Uint16Array)).toEqual(Array.from(toFloat16(original.odd)));
  });

  test("a non-f32 input or an unknown precision is refused with a hint", () => {
    expect(() => quantizeGguf(join(dir, "q8.gguf"), join(dir, "x.gguf"), { precision: "f16" })).toThrow(
      /tensor 'm.weight' is not f32/,
    );
    expect(() => quantizeGguf(input, join(dir, "x.gguf"), { precision: "q4" as "f16" })).toThrow(
      /unknown precision "q4"/,
    );
  });
});
