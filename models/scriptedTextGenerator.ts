/**
 * A TextGenerator that answers from a script instead of a model — for unit tests of the agents and the
 * graph (CONTRIBUTING.md "How the code reads" #12: fakes for the model only), and for measuring orchestration overhead without
 * model time.
 *
 * `answer(promptText, i)` returns the text of candidate i; log-probs are a fixed −0.1 per token (one
 * "token" per whitespace-separated word). Every call is recorded in `calls`.
 *
 * @example
 * const fake = createScriptedTextGenerator((prompt) => prompt.includes("projects") ? "SELECT count(*) FROM projects" : "nonsense");
 */
import { AbortError } from "../errors.js";
import { renderPrompt } from "./promptTemplates.js";
import type { CandidateOptions, Completion, GenerationParams, Prompt, TextGenerator } from "./textGenerator.js";

export interface ScriptedTextGenerator extends TextGenerator {
  /** Each call: the rendered prompt, n and the temperatures. */
  readonly calls: { prompt: string; n: number; temperatures: number[] }[];
}

export function createScriptedTextGenerator(
  answer: (prompt: string, index: number) => string | Promise<string>,
  options: { delayMs?: number } = {},
): ScriptedTextGenerator {
  const calls: ScriptedTextGenerator["calls"] = [];
  const complete = async (text: string, signal?: AbortSignal): Promise<Completion> => {
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (signal?.aborted) throw new AbortError();
    const words = text.split(/\s+/).filter(Boolean);
    return {
      text,
      tokens: words.map((_, i) => i),
      logprobs: words.map(() => -0.1),
      finishReason: "eos",
      adapter: null,
      timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
    };
  };
  const generateCandidates = async (
    prompt: Prompt,
    n: number,
    params: Partial<GenerationParams> & CandidateOptions = {},
    signal?: AbortSignal,
  ): Promise<Completion[]> => {
    const rendered = renderPrompt(prompt);
    calls.push({ prompt: rendered, n, temperatures: params.temperatures ?? [] });
    return Promise.all(Array.from({ length: n }, async (_, i) => complete(await answer(rendered, i), signal)));
  };
  return {
    calls,
    generateCandidates,
    async generate(prompt, params, signal) {
      return (await generateCandidates(prompt, 1, params, signal))[0]!;
    },
  };
}
