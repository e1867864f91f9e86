import { describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GGML_TYPE, gguf, ggufString, readGguf, writeGguf } from "./ggufFile.js";
import { checkLoraAdapterFits, createLoraAdapter, readLoraAdapter, writeLoraAdapter } from "./loraAdapter.js";

const dir = mkdtempSync(join(tmpdir(), "lora-test-"));
const model = {
  architecture: "qwen2",
  tensors: new Map([
    ["blk.0.attn_q.weight", [8, 8]],
    ["blk.0.attn_k.weight", [8, 4]],
  ]),
};

describe("LoRA adapter GGUF", () => {
  const adapter = createLoraAdapter({ rank: 2, alpha: 4, targets: model.tensors, seed: 1, bStd: 0.1 });
  const path = join(dir, "a.gguf");
  writeLoraAdapter(path, adapter);

  test("is written as llama.cpp reads it", () => {
    const file = readGguf(path);
    expect(ggufString(file, "general.type")).toBe("adapter");
    expect(ggufString(file, "adapter.type")).toBe("lora");
    expect(file.metadata.get("adapter.lora.alpha")).toEqual({ type: "f32", value: 4 });
    expect(file.tensors.map((t) => [t.name, t.shape])).toEqual([
      ["blk.0.attn_q.weight.lora_a", [8, 2]],
      ["blk.0.attn_q.weight.lora_b", [2, 8]],
      ["blk.0.attn_k.weight.lora_a", [8, 2]],
      ["blk.0.attn_k.weight.lora_b", [2, 4]],
    ]);
  });

  test("round-trips and fits its model", () => {
    const back = readLoraAdapter(path);
    expect(back.rank).toBe(2);
    expect(back.alpha).toBe(4);
    expect(Array.from(back.tensors.get("blk.0.attn_k.weight")!.b)).toEqual(
      Array.from(adapter.tensors.get("blk.0.attn_k.weight")!.b),
    );
    expect(() => checkLoraAdapterFits(path, back, model)).not.toThrow();
  });

  test("zero B by default (PEFT init)", () => {
    const fresh = createLoraAdapter({ rank: 2, alpha: 4, targets: model.tensors });
    expect(fresh.tensors.get("blk.0.attn_q.weight")!.b.every((x) => x === 0)).toBe(true);
    expect(fresh.tensors.get("blk.0.attn_q.weight")!.a.some((x) => x !== 0)).toBe(true);
  });

  test("mismatches name the file and the problem", () => {
    expect(() => checkLoraAdapterFits(path, readLoraAdapter(path), { ...model, architecture: "llama" })).toThrow(
      /a\.gguf: architecture qwen2 does not match the model's llama/,
    );
    const small = {
      architecture: "qwen2",
      tensors: new Map([
        ["blk.0.attn_q.weight", [8, 8]],
        ["blk.0.attn_k.weight", [8, 2]],
      ]),
    };
    expect(() => checkLoraAdapterFits(path, readLoraAdapter(path), small)).toThrow(
      /blk\.0\.attn_k\.weight is \[8, 2\] in the model but the adapter expects \[8, 4\]/,
    );
    const head = createLoraAdapter({ rank: 1, alpha: 1, targets: new Map([["output.weight", [8, 10]]]) });
    expect(() => checkLoraAdapterFits("h.gguf", head, model)).toThrow(/no tensor output\.weight/);
  });

  test("corrupt, truncated and non-adapter files are refused", () => {
    const cut = join(dir, "cut.gguf");
    writeFileSync(cut, readFileSync(path).subarray(0, 200));
    expect(() => readLoraAdapter(cut)).toThrow(/LoRA adapter .*cut\.gguf is a corrupt or truncated GGUF/);
    const notAdapter = join(dir, "model.gguf");
    writeGguf(notAdapter, { metadata: new Map([["general.architecture", gguf.string("qwen2")]]), tensors: [] });
    expect(() => readLoraAdapter(notAdapter)).toThrow(/not a LoRA adapter/);
    const unpaired = join(dir, "unpaired.gguf");
    writeGguf(unpaired, {
      metadata: new Map([
        ["general.type", gguf.string("adapter")],
        ["adapter.type", gguf.string("lora")],
      ]),
      tensors: [{ name: "blk.0.attn_q.weight.lora_a", shape: [8, 2], type: GGML_TYPE.F32, data: new Float32Array(16) }],
    });
    expect(() => readLoraAdapter(unpaired)).toThrow(/has no matching blk\.0\.attn_q\.weight\.lora_b/);
  });
});
