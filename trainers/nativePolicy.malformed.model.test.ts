/**
 * A malformed file never takes the process down: every GGUF key is read typed, RoPE scaling is applied as
 * llama.cpp applies it (linear, YaRN — log-probs match node-llama-cpp) or refused, and a fuzz of the loader —
 * truncations, flipped bytes in the header, keys and tensor infos, keys of the wrong type, impossible shapes and
 * types — gives, for every case, a loaded policy or a NativeError with a code and a hint, in this process.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNativeError } from "../errors.js";
import { GGML_TYPE, type GgufFile, type GgufValue, readGguf, writeGguf } from "../models/ggufFile.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import { mulberry32 } from "../runtime/mulberry32.js";
import { llamaLogprobs, meanAbsDelta, sampleBatch } from "./native/policyChecks.js";
import { NativePolicy } from "./nativePolicy.js";

const dir = mkdtempSync(join(tmpdir(), "native-malformed-test-"));
const modelPath = join(dir, "tiny.gguf");
let source: GgufFile;
let vocab = 0;

beforeAll(async () => {
  const dims = { embedding: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 64, tied: true };
  vocab = (await writeTinyModel({ out: modelPath, seed: 12, initStd: 0.3, dims })).vocabSize;
  source = readGguf(modelPath, { data: true });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The outcome of loading `path`: "loaded", or the NativeError's code (asserting it carries a hint and the path). */
async function load(path: string): Promise<string> {
  try {
    const policy = await NativePolicy.create({ modelPath: path, gpu: "cpu", lora: { rank: 2, alpha: 4 } });
    await policy.logprobs([{ tokens: [1, 2, 3], completionStart: 1 }]);
    await policy.dispose();
    return "loaded";
  } catch (error) {
    expect(isNativeError(error)).toBe(true);
    const { code, hint, message } = error as { code: string; hint?: string; message: string };
    expect(code).toMatch(/^native\./);
    expect(hint).toEqual(expect.any(String));
    expect(message).toContain(path);
    return code;
  }
}

function withMetadata(name: string, edit: (m: Map<string, GgufValue>) => void): string {
  const metadata = new Map(source.metadata);
  edit(metadata);
  const path = join(dir, name);
  writeGguf(path, { metadata, tensors: source.tensors });
  return path;
}

describe("RoPE scaling", () => {
  test.each([
    ["linear", { "qwen2.rope.scaling.type": "linear", "qwen2.rope.scaling.factor": 2 }],
    [
      "yarn",
      {
        "qwen2.rope.scaling.type": "yarn",
        "qwen2.rope.scaling.factor": 4,
        "qwen2.rope.scaling.original_context_length": 16,
      },
    ],
  ] as const)(
    "%s scaling is applied as llama.cpp applies it",
    async (_, keys) => {
      const path = withMetadata(`rope-${_}.gguf`, (m) => {
        for (const [key, value] of Object.entries(keys)) {
          m.set(
            key,
            typeof value === "string"
              ? { type: "string", value }
              : key.endsWith("length")
                ? { type: "u32", value }
                : { type: "f32", value },
          );
        }
      });
      const batch = sampleBatch(3, vocab, [
        [14, 3],
        [9, 2],
      ]);
      const policy = await NativePolicy.create({ modelPath: path, gpu: "cpu", lora: { rank: 2, alpha: 4 } });
      const plain = await NativePolicy.create({ modelPath, gpu: "cpu", lora: { rank: 2, alpha: 4 } });
      try {
        const ours = await policy.logprobs(batch);
        expect(meanAbsDelta(await llamaLogprobs(path, batch), ours)).toBeLessThanOrEqual(1e-3);
        expect(meanAbsDelta(await plain.logprobs(batch), ours)).toBeGreaterThan(1e-3); // the scaling changed something
      } finally {
        await policy.dispose();
        await plain.dispose();
      }
    },
    30_000,
  );

  test("an unknown scaling type is refused, saying which", async () => {
    const path = withMetadata("rope-longrope.gguf", (m) =>
      m.set("qwen2.rope.scaling.type", { type: "string", value: "longrope" }),
    );
    await expect(NativePolicy.create({ modelPath: path, gpu: "cpu" })).rejects.toMatchObject({
      code: "native.gguf",
      message: expect.stringMatching(/RoPE scaling "longrope"/),
    });
  });
});

describe("malformed GGUFs", () => {
  test("keys of the wrong type, impossible values, shapes and types are NativeErrors naming what is wrong", async () => {
    const cases: [string, (m: Map<string, GgufValue>) => void, RegExp][] = [
      [
        "block_count as a string",
        (m) => m.set("qwen2.block_count", { type: "string", value: "2" }),
        /block_count of type str, expected an integer/,
      ],
      [
        "block_count as an array",
        (m) => m.set("qwen2.block_count", { type: "array", itemType: "u32", value: [2] }),
        /block_count an array of u32/,
      ],
      [
        "embedding_length missing",
        (m) => m.delete("qwen2.embedding_length"),
        /lacks metadata key qwen2.embedding_length/,
      ],
      [
        "architecture as a number",
        (m) => m.set("general.architecture", { type: "u32", value: 2 }),
        /general.architecture of type u32, expected a string/,
      ],
      [
        "rms epsilon as a string",
        (m) => m.set("qwen2.attention.layer_norm_rms_epsilon", { type: "string", value: "1e-6" }),
        /expected a number/,
      ],
      [
        "block_count 10^7",
        (m) => m.set("qwen2.block_count", { type: "u32", value: 10_000_000 }),
        /block_count 10000000 but no tensor/,
      ],
      ["head_count 0", (m) => m.set("qwen2.attention.head_count", { type: "u32", value: 0 }), /head_count = 0/],
      ["head_count 3", (m) => m.set("qwen2.attention.head_count", { type: "u32", value: 3 }), /head_count/],
      [
        "rope type as a bool",
        (m) => m.set("qwen2.rope.scaling.type", { type: "bool", value: true }),
        /rope.scaling.type of type bool/,
      ],
    ];
    for (const [name, edit, message] of cases) {
      const path = withMetadata(`${name.replaceAll(" ", "-")}.gguf`, edit);
      await expect(NativePolicy.create({ modelPath: path, gpu: "cpu" })).rejects.toMatchObject({
        code: expect.stringMatching(/^native\.(gguf|shape)$/),
        message: expect.stringMatching(message),
      });
    }
    const tensorCases: [string, GgufFile["tensors"], RegExp][] = [
      [
        "wrong shape",
        source.tensors.map((t) =>
          t.name === "blk.1.attn_k.weight"
            ? { ...t, shape: [16, 32], data: (t.data as Float32Array).slice(0, 512) }
            : t,
        ),
        /blk.1.attn_k.weight of shape \[16, 32\], expected \[32, 16\]/,
      ],
      [
        "missing tensor",
        source.tensors.filter((t) => t.name !== "blk.0.ffn_up.weight"),
        /lacks tensor blk.0.ffn_up.weight/,
      ],
      [
        "an integer matrix",
        source.tensors.map((t) =>
          t.name === "blk.0.attn_q.weight" ? { ...t, type: GGML_TYPE.I32, data: new Uint8Array(4096) } : t,
        ),
        /type i32, which the trainer does not support/,
      ],
    ];
    for (const [name, tensors, message] of tensorCases) {
      const path = join(dir, `${name.replaceAll(" ", "-")}.gguf`);
      writeGguf(path, { metadata: source.metadata, tensors });
      await expect(NativePolicy.create({ modelPath: path, gpu: "cpu" })).rejects.toMatchObject({
        message: expect.stringMatching(message),
      });
    }
  }, 60_000);

  test("fuzz: truncations and flipped bytes in the header, keys and tensor infos never crash the process", async () => {
    const bytes = readFileSync(modelPath);
    const dataOffset = source.dataOffset ?? readGguf(modelPath).dataOffset!;
    const outcomes = new Map<string, number>();
    const record = (code: string): void => {
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    };
    const path = join(dir, "fuzz.gguf");
    // Truncated: inside the header, the keys, the tensor infos and the data.
    const cuts = [
      0,
      3,
      4,
      7,
      8,
      15,
      16,
      23,
      24,
      40,
      100,
      1000,
      dataOffset - 500,
      dataOffset - 20,
      dataOffset,
      dataOffset + 1000,
      bytes.length - 1,
    ];
    for (const cut of cuts) {
      writeFileSync(path, bytes.subarray(0, cut));
      record(await load(path));
    }
    // Flipped bytes: the header and first keys, and the tensor infos just before the data.
    const random = mulberry32(2024);
    const regions: [number, number][] = [
      [0, 2048],
      [Math.max(0, dataOffset - 2048), dataOffset],
    ];
    for (let i = 0; i < 120; i++) {
      const [start, end] = regions[i % 2]!;
      const mutated = Buffer.from(bytes);
      for (let k = 0; k < 1 + (i % 3); k++) {
        const at = start + Math.floor(random() * (end - start));
        mutated[at] = random() < 0.5 ? mutated[at]! ^ (1 << Math.floor(random() * 8)) : Math.floor(random() * 256);
      }
      writeFileSync(path, mutated);
      record(await load(path));
    }
    // Every case above ended in this process as "loaded" or a NativeError with a hint (asserted in load()); most
    // corruptions must have been caught.
    const failed = [...outcomes].filter(([code]) => code !== "loaded").reduce((s, [, n]) => s + n, 0);
    expect(failed).toBeGreaterThanOrEqual(cuts.length);
    expect(
      [...outcomes.keys()]
        .filter((c) => c !== "loaded")
        .every((c) => /^native\.(gguf|shape|file|arch|memory)$/.test(c)),
    ).toBe(true);
  }, 120_000);
});
