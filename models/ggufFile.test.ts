import { describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isModelError } from "../errors.js";
import { GGML_TYPE, gguf, ggufNumber, ggufString, readGguf, writeGguf, type GgufValue } from "./ggufFile.js";

const dir = mkdtempSync(join(tmpdir(), "gguf-test-"));

describe("GGUF read/write", () => {
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.string("qwen2")],
    ["u8", { type: "u8", value: 255 }],
    ["i8", { type: "i8", value: -7 }],
    ["u16", { type: "u16", value: 65535 }],
    ["i16", { type: "i16", value: -300 }],
    ["u32", gguf.u32(4000000000)],
    ["i32", gguf.i32(-5)],
    ["f32", gguf.f32(0.5)],
    ["bool", gguf.bool(true)],
    ["u64", { type: "u64", value: 2n ** 40n }],
    ["i64", { type: "i64", value: -(2n ** 40n) }],
    ["f64", { type: "f64", value: Math.PI }],
    ["strs", gguf.strings(["a", "Ġb", "ünï"])],
    ["ints", gguf.i32s([1, -2, 3])],
    ["general.alignment", gguf.u32(64)],
  ]);
  const f32 = new Float32Array([1, -2.5, 3.25, 4, 5, 6]);
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x0000]);
  const path = join(dir, "all.gguf");
  const size = writeGguf(path, {
    metadata,
    tensors: [
      { name: "w", shape: [3, 2], type: GGML_TYPE.F32, data: f32 },
      { name: "h", shape: [3], type: GGML_TYPE.F16, data: f16 },
    ],
  });

  test("round-trips every metadata type and f32/f16 tensors", () => {
    const file = readGguf(path, { data: true });
    expect(file.version).toBe(3);
    expect([...file.metadata.entries()]).toEqual([...metadata.entries()]);
    expect(file.tensors.map((t) => [t.name, t.shape, t.type])).toEqual([
      ["w", [3, 2], 0],
      ["h", [3], 1],
    ]);
    expect(Array.from(file.tensors[0]!.data!)).toEqual(Array.from(f32));
    expect(Array.from(file.tensors[1]!.data!)).toEqual(Array.from(f16));
    expect(file.dataOffset! % 64).toBe(0);
    expect(ggufString(file, "general.architecture")).toBe("qwen2");
    expect(ggufNumber(file, "u64")).toBe(2 ** 40);
  });

  test("a re-write of what was read is byte-identical", () => {
    const file = readGguf(path, { data: true });
    const again = join(dir, "again.gguf");
    expect(writeGguf(again, file)).toBe(size);
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
  });

  test("not GGUF, missing and truncated files are ModelErrors naming the file", () => {
    const bad = join(dir, "bad.gguf");
    writeFileSync(bad, "PK\u0003\u0004 not a model");
    expect(() => readGguf(bad)).toThrow(/not a GGUF file: expected magic 'GGUF'/);
    expect(() => readGguf(join(dir, "nope.gguf"))).toThrow(/model file not found: .*nope\.gguf/);
    const cut = join(dir, "cut.gguf");
    writeFileSync(cut, readFileSync(path).subarray(0, size - 60));
    let error: unknown;
    try {
      readGguf(cut);
    } catch (e) {
      error = e;
    }
    expect(isModelError(error)).toBe(true);
    expect((error as Error).message).toMatch(/cut\.gguf is a corrupt or truncated GGUF file: tensor 'h'/);
    truncateSync(cut, 40);
    expect(() => readGguf(cut)).toThrow(/truncated/);
  });

  test("tensor data of the wrong length is refused", () => {
    expect(() =>
      writeGguf(join(dir, "x.gguf"), {
        metadata: new Map(),
        tensors: [{ name: "t", shape: [4], type: GGML_TYPE.F32, data: new Float32Array(3) }],
      }),
    ).toThrow(/tensor 't' \[4\] needs 16 bytes of data, got 12/);
  });
});
