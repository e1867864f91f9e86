/**
 * `gl-rl/models` — the language model side: load a Qwen GGUF (local or `hf:`), prompts, LoRA adapters, and
 * the `TextGenerator` interface to bring a model of your own.
 *
 * @example
 * import { loadModel, buildPrompt } from "gl-rl/models";
 *
 * await using model = await loadModel({ model: "hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF:Q4_K_M" });
 * const [candidate] = await model.generateCandidates(buildPrompt("zeroShot", { question: "How many projects?" }), 1);
 * console.log(candidate.text);
 */

// Load a model: a .gguf path or an hf: URI; parallel candidates on one context, hot-swapped LoRA adapters.
export { SUPPORTED_ARCHITECTURES, loadModel } from "./models/loadModel.js";
export type { LoadedModel, LoadModelOptions } from "./models/loadModel.js";
export type { GpuChoice } from "./models/llamaRuntime.js";

// A model on an OpenAI-compatible server (llama-server, vLLM, …): `openai:<base URL>` (docs/remote-models.md).
export { createOpenAiTextGenerator } from "./models/openAiTextGenerator.js";
export type { OpenAiTextGenerator, OpenAiTextGeneratorOptions } from "./models/openAiTextGenerator.js";

// Bring your own model: what the agents and evaluation need from one.
export type {
  CandidateOptions,
  ChatMessage,
  Completion,
  FinishReason,
  GenerationParams,
  Prompt,
  TextGenerator,
} from "./models/textGenerator.js";

// Prompts: one builder for ask, SFT, GRPO and evaluation, in several styles (docs/prompts.md).
export { buildPrompt, renderPrompt } from "./models/promptTemplates.js";
export type { PromptInput, PromptStyle } from "./models/promptTemplates.js";

// LoRA adapters as GGUF files (what `train sft|grpo` write and `--adapter` reads).
export { readLoraAdapter, writeLoraAdapter } from "./models/loraAdapter.js";
export type { LoraAdapter, LoraPair } from "./models/loraAdapter.js";

// Smaller files: rewrite an f32 GGUF at f16 or q8_0 (how the shipped demo model is stored).
export { quantizeGguf } from "./models/quantizeGguf.js";
export type { GgufPrecision } from "./models/quantizeGguf.js";
