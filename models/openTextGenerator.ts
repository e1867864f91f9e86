/**
 * The one place a `--model` value becomes a TextGenerator, for `ask`, `eval`, passAtK, the agent API and the MCP
 * server: `openai:<base URL>` → a remote model (models/openAiTextGenerator.ts), anything else → a GGUF loaded
 * in-process (models/loadModel.ts: a path or an `hf:` URI). docs/remote-models.md.
 *
 * A remote model takes no `--adapter` (the server loads its own: llama-server `--lora`), and the load options of
 * a local one (gpu, threads, sequences, KV cache) are the server's business; `timeoutMs` limits each request.
 */
import { InputError } from "../errors.js";
import { loadModel, type LoadedModel, type LoadModelOptions } from "./loadModel.js";
import { createOpenAiTextGenerator, isOpenAiModelSpec, type OpenAiTextGenerator } from "./openAiTextGenerator.js";

/** What openTextGenerator opens: a GGUF in this process or a model on a server. */
export type OpenedTextGenerator = LoadedModel | OpenAiTextGenerator;

export interface OpenTextGeneratorOptions extends LoadModelOptions {
  /** A remote model's limit per request, ms (default 120000); a local model ignores it. */
  timeoutMs?: number;
}

/**
 * Opens the model a `--model` value names.
 * @example
 * await using model = await openTextGenerator({ model: "openai:http://127.0.0.1:8080/v1" });
 * await using local = await openTextGenerator({ model: "data/demo-model.gguf", gpu: false });
 */
export async function openTextGenerator(options: OpenTextGeneratorOptions): Promise<OpenedTextGenerator> {
  const { timeoutMs, ...load } = options;
  if (!isOpenAiModelSpec(load.model)) return loadModel(load);
  if (load.adapter !== undefined)
    throw new InputError(`--adapter cannot be applied to the remote model ${load.model}`, {
      hint: "load the adapter in the server (llama-server --lora adapter.gguf), or use a local .gguf model",
    });
  return createOpenAiTextGenerator({ url: load.model, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}
