/**
 * `gl-rl model tiny --out <file.gguf> [--seed N] [--embedding N] [--layers N] [--heads N] [--kv-heads N]
 *  [--ffn N] [--context N] [--untied] [--full-vocab] [--json]` — writes the tiny Qwen2-architecture GGUF.
 */
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import { writeTinyModel, type TinyModelDims } from "../../models/writeTinyModel.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      out: { type: "string" },
      seed: { type: "string" },
      embedding: { type: "string" },
      layers: { type: "string" },
      heads: { type: "string" },
      "kv-heads": { type: "string" },
      ffn: { type: "string" },
      context: { type: "string" },
      untied: { type: "boolean" },
      "full-vocab": { type: "boolean" },
      json: { type: "boolean" },
    },
    "gl-rl model tiny",
  );
  const out = values.out as string | undefined;
  if (!out)
    throw new InputError("gl-rl model tiny: --out <file.gguf> is required", {
      hint: "e.g. gl-rl model tiny --out models/tiny.gguf",
    });
  const dims: Partial<TinyModelDims> = {};
  for (const [flag, key] of [
    ["embedding", "embedding"],
    ["layers", "layers"],
    ["heads", "heads"],
    ["kv-heads", "kvHeads"],
    ["ffn", "ffn"],
    ["context", "context"],
  ] as const) {
    if (values[flag] !== undefined) dims[key] = parseIntegerFlag(values[flag] as string, flag, 0);
  }
  if (values.untied) dims.tied = false;
  const info = await writeTinyModel({
    out: resolve(out),
    seed: parseIntegerFlag(values.seed as string | undefined, "seed", 0),
    dims,
    vocabulary: values["full-vocab"] ? "full" : "trimmed",
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    const d = info.dims;
    process.stdout.write(
      `wrote ${info.path}: qwen2 d=${d.embedding} layers=${d.layers} heads=${d.heads}/${d.kvHeads} ffn=${d.ffn} ctx=${d.context} ${d.tied ? "tied" : "untied"}, vocab ${info.vocabSize} tokens / ${info.merges} merges, ${info.parameters} parameters, ${info.bytes} bytes\n`,
    );
  }
  return 0;
}
