/**
 * GGUF files (llama.cpp's model and adapter format, version 3) read and written in TypeScript.
 *
 * Layout, little-endian throughout:
 *   1. magic "GGUF" (bytes 0..3), version u32 (3), n_tensors u64, n_kv u64
 *   2. n_kv metadata entries: key (string), value type u32, value
 *      string = u64 byte length + UTF-8 bytes; array = item type u32 + count u64 + items
 *   3. n_tensors tensor infos: name (string), n_dims u32, ne[n_dims] u64 (ne0 = the fastest-varying
 *      dimension, ggml order), ggml type u32, offset u64 (relative to the data section, aligned)
 *   4. zero padding to `general.alignment` (default 32), then the data section: each tensor's bytes at its
 *      offset, each offset a multiple of the alignment.
 *
 * Metadata values are tagged with their GGUF type so that a read → write round trip is byte-exact.
 * Tensor data: f32 as Float32Array, f16/bf16 as Uint16Array (raw halves), other ggml types as raw bytes.
 * Writes are atomic: a temp file beside the target, fsync, then rename.
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { ModelError } from "../errors.js";

// ─── Types ──────────────────────────────────────────────────────────────────────────────────────────

export type GgufScalarType =
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "f32"
  | "bool"
  | "string"
  | "u64"
  | "i64"
  | "f64";

/** A metadata value with its GGUF type. u64/i64 are bigint; arrays hold items of one scalar type. */
export type GgufValue =
  | { type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; value: number }
  | { type: "u64" | "i64"; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: GgufScalarType; value: (number | bigint | boolean | string)[] };

/** ggml tensor types this module knows the size of (ids as in ggml.h). */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  BF16: 30,
} as const;

/** [block size in elements, bytes per block] per ggml type. */
const TYPE_BLOCK: Record<number, [number, number]> = {
  0: [1, 4],
  1: [1, 2],
  2: [32, 18],
  3: [32, 20],
  6: [32, 22],
  7: [32, 24],
  8: [32, 34],
  9: [32, 36],
  10: [256, 84],
  11: [256, 110],
  12: [256, 144],
  13: [256, 176],
  14: [256, 210],
  15: [256, 292],
  24: [1, 1],
  25: [1, 2],
  26: [1, 4],
  27: [1, 8],
  28: [1, 8],
  30: [1, 2],
};

export type GgufTensorData = Float32Array | Uint16Array | Uint8Array;

export interface GgufTensor {
  name: string;
  /** ggml order: shape[0] = ne0, the contiguous dimension. A matrix [n_in, n_out] has n_out rows of n_in. */
  shape: number[];
  /** ggml type id (GGML_TYPE). */
  type: number;
  /** Present when the file was read with data, or for writing. */
  data?: GgufTensorData;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensor[];
  /** Byte offset of the data section in the file (reads only). */
  dataOffset?: number;
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
const SCALAR_IDS: Record<GgufScalarType | "array", number> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};
const SCALAR_NAMES = Object.fromEntries(Object.entries(SCALAR_IDS).map(([k, v]) => [v, k])) as Record<
  number,
  GgufScalarType | "array"
>;

/** Short constructors for metadata values: `gguf.u32(4)`, `gguf.strings(["a"])`. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: "u32", value }),
  i32: (value: number): GgufValue => ({ type: "i32", value }),
  f32: (value: number): GgufValue => ({ type: "f32", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  string: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: string[]): GgufValue => ({ type: "array", itemType: "string", value }),
  i32s: (value: number[]): GgufValue => ({ type: "array", itemType: "i32", value }),
  f32s: (value: number[]): GgufValue => ({ type: "array", itemType: "f32", value }),
};

/** Number of bytes of a tensor's data, or undefined for a ggml type this module does not know. */
export function ggmlTensorBytes(type: number, shape: number[]): number | undefined {
  const block = TYPE_BLOCK[type];
  if (!block) return undefined;
  const n = shape.reduce((a, b) => a * b, 1);
  return (n / block[0]) * block[1];
}

/** The string value of a metadata key, or undefined. */
export function ggufString(file: GgufFile, key: string): string | undefined {
  const v = file.metadata.get(key);
  return v?.type === "string" ? v.value : undefined;
}

/** The numeric value of a metadata key (any integer or float type), or undefined. */
export function ggufNumber(file: GgufFile, key: string): number | undefined {
  const v = file.metadata.get(key);
  if (!v) return undefined;
  if (typeof v.value === "number") return v.value;
  if (typeof v.value === "bigint") return Number(v.value);
  return undefined;
}

// ─── Reading ────────────────────────────────────────────────────────────────────────────────────────

class OutOfBytes extends Error {}

class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(
    readonly buf: Buffer,
    private readonly complete: boolean,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new OutOfBytes();
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  safeU64(what: string): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} ${v} is too large`);
    return Number(v);
  }
  string(): string {
    const n = this.safeU64("string length");
    if (this.complete && this.pos + n > this.buf.length)
      throw new RangeError(`string of ${n} bytes runs past the end of the file`);
    this.need(n);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  scalar(type: GgufScalarType): number | bigint | boolean | string {
    const v = this.view;
    const p = this.pos;
    switch (type) {
      case "u8":
        this.need(1);
        this.pos += 1;
        return v.getUint8(p);
      case "i8":
        this.need(1);
        this.pos += 1;
        return v.getInt8(p);
      case "u16":
        this.need(2);
        this.pos += 2;
        return v.getUint16(p, true);
      case "i16":
        this.need(2);
        this.pos += 2;
        return v.getInt16(p, true);
      case "u32":
        this.need(4);
        this.pos += 4;
        return v.getUint32(p, true);
      case "i32":
        this.need(4);
        this.pos += 4;
        return v.getInt32(p, true);
      case "f32":
        this.need(4);
        this.pos += 4;
        return v.getFloat32(p, true);
      case "bool":
        this.need(1);
        this.pos += 1;
        return v.getUint8(p) !== 0;
      case "u64":
        this.need(8);
        this.pos += 8;
        return v.getBigUint64(p, true);
      case "i64":
        this.need(8);
        this.pos += 8;
        return v.getBigInt64(p, true);
      case "f64":
        this.need(8);
        this.pos += 8;
        return v.getFloat64(p, true);
      case "string":
        return this.string();
    }
  }
}

function scalarName(id: number, key: string): GgufScalarType | "array" {
  const name = SCALAR_NAMES[id];
  if (name === undefined) throw new RangeError(`metadata '${key}' has unknown value type ${id}`);
  return name;
}

/** Parses header + tensor infos from `buf`; throws OutOfBytes when `buf` is a prefix that is too short. */
function parseHeader(buf: Buffer, complete: boolean, path: string): GgufFile {
  const c = new Cursor(buf, complete);
  const magic = c.u32();
  if (magic !== MAGIC) {
    throw new ModelError(
      "model.notGguf",
      `${path} is not a GGUF file: expected magic 'GGUF' at byte 0, found '${buf.subarray(0, 4).toString("latin1")}'`,
      {
        hint: "pass a .gguf model file (convert other formats with llama.cpp's convert_hf_to_gguf.py) or an hf: URI",
        context: { file: path },
      },
    );
  }
  const version = c.u32();
  if (version < 2 || version > 3) {
    throw new ModelError("model.ggufVersion", `${path}: unsupported GGUF version ${version} (expected 2 or 3)`, {
      hint: "re-convert the model with a recent llama.cpp",
      context: { file: path },
    });
  }
  const nTensors = c.safeU64("tensor count");
  const nKv = c.safeU64("metadata count");
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.string();
    const type = scalarName(c.u32(), key);
    if (type === "array") {
      const itemType = scalarName(c.u32(), key);
      if (itemType === "array") throw new RangeError(`metadata '${key}': nested arrays are not supported`);
      const n = c.safeU64(`array length of '${key}'`);
      if (complete && n > buf.length)
        throw new RangeError(`array '${key}' claims ${n} items, more than the file holds`);
      const value: (number | bigint | boolean | string)[] = new Array(n);
      for (let j = 0; j < n; j++) value[j] = c.scalar(itemType);
      metadata.set(key, { type: "array", itemType, value });
    } else {
      metadata.set(key, { type, value: c.scalar(type) } as GgufValue);
    }
  }
  const tensors: GgufTensor[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.string();
    const nDims = c.u32();
    if (nDims > 4) throw new RangeError(`tensor '${name}' has ${nDims} dimensions (ggml allows at most 4)`);
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) shape.push(c.safeU64(`dimension of '${name}'`));
    const type = c.u32();
    offsets.push(c.safeU64(`offset of '${name}'`));
    tensors.push({ name, shape, type });
  }
  const alignment = Number(metadata.get("general.alignment")?.value ?? DEFAULT_ALIGNMENT);
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const file: GgufFile = { version, metadata, tensors, dataOffset };
  tensorOffsets.set(file, offsets);
  return file;
}

const tensorOffsets = new WeakMap<GgufFile, number[]>();

function corrupt(path: string, error: unknown): ModelError {
  const message = error instanceof Error ? error.message : String(error);
  return new ModelError("model.corruptGguf", `${path} is a corrupt or truncated GGUF file: ${message}`, {
    hint: "re-create or re-download the file",
    context: { file: path },
    cause: error,
  });
}

function missing(path: string): ModelError {
  return new ModelError("model.missingFile", `model file not found: ${path}`, {
    hint: "pass the path of an existing .gguf file, an hf: URI, or create the tiny model with 'gl-rl model tiny --out <file.gguf>'",
    context: { file: path },
  });
}

function readPrefix(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, buf, got, n - got, got);
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/**
 * Reads a GGUF file's metadata and tensor infos (reading only as much of the file as the header needs),
 * and with `{ data: true }` the tensors' data too (f32/f16/bf16 typed, other types as raw bytes).
 * Errors: ModelError `model.missingFile`, `model.notGguf`, `model.corruptGguf`.
 *
 * @example
 * const file = readGguf("tiny.gguf");
 * ggufString(file, "general.architecture"); // "qwen2"
 */
export function readGguf(path: string, options: { data?: boolean } = {}): GgufFile {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw missing(path);
    size = st.size;
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw missing(path);
  }
  const fd = openSync(path, "r");
  try {
    let file: GgufFile | undefined;
    for (let n = Math.min(size, 1 << 20); file === undefined; n = Math.min(size, n * 4)) {
      const complete = n >= size;
      const buf = readPrefix(fd, n);
      try {
        file = parseHeader(buf, complete, path);
      } catch (error) {
        if (error instanceof ModelError) throw error;
        if (error instanceof OutOfBytes && !complete) continue;
        throw corrupt(
          path,
          error instanceof OutOfBytes ? new RangeError("the header runs past the end of the file") : error,
        );
      }
    }
    const offsets = tensorOffsets.get(file)!;
    const dataOffset = file.dataOffset!;
    for (let i = 0; i < file.tensors.length; i++) {
      const t = file.tensors[i]!;
      const bytes = ggmlTensorBytes(t.type, t.shape);
      const start = dataOffset + offsets[i]!;
      if (bytes !== undefined && start + bytes > size) {
        throw corrupt(
          path,
          new RangeError(
            `tensor '${t.name}' [${t.shape.join(", ")}] ends at byte ${start + bytes}, past the end of the file (${size} bytes)`,
          ),
        );
      }
      if (!options.data) continue;
      if (bytes === undefined)
        throw corrupt(path, new RangeError(`tensor '${t.name}' has unknown ggml type ${t.type}`));
      const raw = Buffer.alloc(bytes);
      readSync(fd, raw, 0, bytes, start);
      const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + bytes);
      t.data =
        t.type === GGML_TYPE.F32
          ? new Float32Array(ab)
          : t.type === GGML_TYPE.F16 || t.type === GGML_TYPE.BF16
            ? new Uint16Array(ab)
            : new Uint8Array(ab);
    }
    return file;
  } finally {
    closeSync(fd);
  }
}

// ─── Writing ────────────────────────────────────────────────────────────────────────────────────────

class Sink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.push(b);
  }
  scalar(type: GgufScalarType, v: number | bigint | boolean | string): void {
    const sizes: Record<string, number> = {
      u8: 1,
      i8: 1,
      u16: 2,
      i16: 2,
      u32: 4,
      i32: 4,
      f32: 4,
      bool: 1,
      u64: 8,
      i64: 8,
      f64: 8,
    };
    if (type === "string") {
      this.string(String(v));
      return;
    }
    const b = Buffer.alloc(sizes[type]!);
    switch (type) {
      case "u8":
        b.writeUInt8(Number(v));
        break;
      case "i8":
        b.writeInt8(Number(v));
        break;
      case "u16":
        b.writeUInt16LE(Number(v));
        break;
      case "i16":
        b.writeInt16LE(Number(v));
        break;
      case "u32":
        b.writeUInt32LE(Number(v));
        break;
      case "i32":
        b.writeInt32LE(Number(v));
        break;
      case "f32":
        b.writeFloatLE(Number(v));
        break;
      case "bool":
        b.writeUInt8(v ? 1 : 0);
        break;
      case "u64":
        b.writeBigUInt64LE(BigInt(v as number | bigint));
        break;
      case "i64":
        b.writeBigInt64LE(BigInt(v as number | bigint));
        break;
      case "f64":
        b.writeDoubleLE(Number(v));
        break;
    }
    this.push(b);
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/**
 * Writes a GGUF v3 file atomically (temp file + fsync + rename). Every tensor needs `data` whose byte
 * length matches its shape and type. Returns the file size in bytes.
 *
 * @example
 * writeGguf("a.gguf", { metadata: new Map([["general.architecture", gguf.string("qwen2")]]),
 *   tensors: [{ name: "x", shape: [4], type: GGML_TYPE.F32, data: new Float32Array(4) }] });
 */
export function writeGguf(path: string, file: Pick<GgufFile, "metadata" | "tensors">): number {
  const alignment = Number(file.metadata.get("general.alignment")?.value ?? DEFAULT_ALIGNMENT);
  const head = new Sink();
  head.u32(MAGIC);
  head.u32(3);
  head.u64(file.tensors.length);
  head.u64(file.metadata.size);
  for (const [key, v] of file.metadata) {
    head.string(key);
    head.u32(SCALAR_IDS[v.type]);
    if (v.type === "array") {
      head.u32(SCALAR_IDS[v.itemType]);
      head.u64(v.value.length);
      for (const item of v.value) head.scalar(v.itemType, item);
    } else {
      head.scalar(v.type, v.value);
    }
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of file.tensors) {
    const bytes = ggmlTensorBytes(t.type, t.shape);
    if (bytes === undefined)
      throw new ModelError("gguf.tensorType", `tensor '${t.name}': unknown ggml type ${t.type}`, {
        context: { file: path, tensor: t.name },
      });
    if (!t.data || t.data.byteLength !== bytes) {
      throw new ModelError(
        "gguf.tensorData",
        `tensor '${t.name}' [${t.shape.join(", ")}] needs ${bytes} bytes of data, got ${t.data?.byteLength ?? "none"}`,
        {
          hint: "give each tensor a typed array whose length is the product of its shape",
          context: { file: path, tensor: t.name },
        },
      );
    }
    head.string(t.name);
    head.u32(t.shape.length);
    for (const d of t.shape) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offsets.push(offset);
    offset = Math.ceil((offset + bytes) / alignment) * alignment;
  }
  const headerBytes = head.concat();
  const dataStart = Math.ceil(headerBytes.length / alignment) * alignment;

  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, headerBytes, 0, headerBytes.length, 0);
    file.tensors.forEach((t, i) => {
      const d = t.data!;
      const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      writeSync(fd, b, 0, b.length, dataStart + offsets[i]!);
    });
    // Pad the file so that the last tensor's aligned end is inside it (llama.cpp checks the data size).
    const total = dataStart + offset;
    ftruncateSync(fd, total);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    return total;
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw error;
  }
}
