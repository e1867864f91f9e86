/**
 * A TextGenerator served by an OpenAI-compatible completions endpoint: `--model openai:<base URL>` (llama.cpp's
 * llama-server, vLLM, SGLang, Ollama). docs/remote-models.md.
 *
 * 1. Open: `GET <base>/models` — checks that the URL is an OpenAI-compatible server (one clear error line
 *    otherwise, models/openAiRequest.ts) and reads the model id to send (`#<id>` after the URL picks one) and,
 *    from llama-server, the vocabulary size (`meta.n_vocab`: the prompt style by model, task/text2sqlPrompt.ts).
 * 2. The prompt is rendered here, by the same `renderPrompt` as the in-process model (ChatML for chat prompts),
 *    and sent as text to `POST <base>/completions` — never to /chat/completions, so the server's chat template
 *    plays no part and the tokens equal the in-process ones (llama-server parses the special tokens in the text;
 *    it adds a BOS only for a model whose GGUF asks for one, which Qwen's do not).
 * 3. Candidates: one request with `n` when all candidates share a temperature and their seeds are seed, seed+1…
 *    (llama-server gives the i-th child seed + i, as loadModel does); else one request per candidate, all in
 *    flight together (the temperature ladder 0.3…0.9). Choices are put back in order by `index`. llama-server
 *    refuses an `n` above its slots (`--parallel`): its `/props` `total_slots` caps `n` per request
 *    (`maxCandidatesPerRequest`), and a larger group goes as several requests whose seeds continue.
 * 4. Sampling as in loadModel: top-k → top-p → min-p → temperature (llama-server's `samplers`), seed, stop
 *    strings, repeat penalty over the last 64 tokens, GBNF grammar. `fullDistribution` (GRPO) sends top_k 0,
 *    top_p 1, min_p 0: exactly softmax(logits / T) (llama.cpp's top-k with k ≤ 0 is a no-op: no sort).
 * 5. Log-probs: `logprobs: 1`. llama-server returns each sampled token's id and its log-prob under the raw
 *    distribution (no temperature, pre-sampling: what loadModel's re-scoring computes), `logprobs.content[]`;
 *    the OpenAI form (`token_logprobs[]`) gives the log-probs without ids (then `tokens` is empty).
 * 6. Rollout servers (trainers/rollouts/) send two more options: `model` (another served model id: llama-server's router
 *    mode serves one per adapter) and `samplingLogprobs` (llama-server's `post_sampling_probs`: each token's
 *    probability under the distribution it was drawn from — softmax(logits / T) with fullDistribution — which the
 *    GRPO trainer's importance-sampling correction divides by).
 * 7. finish_reason "length" → "maxTokens"; "stop" → "stop" when stop strings were asked for, else "eos" (the
 *    OpenAI answer does not tell them apart). Grammar and repeat penalty are llama-server's extensions: sent only
 *    to llama-server; a grammar for another server is an InputError.
 */
import { InputError, ModelError } from "../errors.js";
import { resolveGenerationParams, temperatureLadder } from "./generationParams.js";
import { openAiRequest, type OpenAiRequestOptions } from "./openAiRequest.js";
import { renderPrompt } from "./promptTemplates.js";
import type {
  CandidateOptions,
  Completion,
  FinishReason,
  GenerationParams,
  Prompt,
  TextGenerator,
} from "./textGenerator.js";

/** The `--model` prefix of a remote model. */
export const OPENAI_MODEL_PREFIX = "openai:";

export interface OpenAiTextGeneratorOptions extends OpenAiRequestOptions {
  /** `openai:<base URL>` or the base URL itself (`http://host:port` gets `/v1`); `#<model id>` picks the model. */
  url: string;
}

/** Whether a `--model` value names a remote model (`openai:<base URL>`). */
export function isOpenAiModelSpec(spec: unknown): spec is string {
  return typeof spec === "string" && spec.startsWith(OPENAI_MODEL_PREFIX);
}

/**
 * The base URL (ending in the API root, `…/v1` unless the path says otherwise) and the model id, if one is named.
 * @example
 * parseOpenAiUrl("openai:http://127.0.0.1:8080#qwen"); // { baseUrl: "http://127.0.0.1:8080/v1", model: "qwen" }
 */
export function parseOpenAiUrl(spec: string): { baseUrl: string; model: string | undefined } {
  const raw = spec.startsWith(OPENAI_MODEL_PREFIX) ? spec.slice(OPENAI_MODEL_PREFIX.length) : spec;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL("invalid:");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InputError(`'${spec}' is not an http(s) URL of an OpenAI-compatible server`, {
      hint: "e.g. --model openai:http://127.0.0.1:8080/v1 (llama-server) or openai:http://127.0.0.1:8000/v1 (vLLM)",
    });
  const model = url.hash.length > 1 ? decodeURIComponent(url.hash.slice(1)) : undefined;
  const path = url.pathname.replace(/\/+$/, "");
  return { baseUrl: `${url.origin}${path === "" ? "/v1" : path}`, model };
}

/** What a remote sampler may add to CandidateOptions (trainers/rollouts/rolloutServers.ts sends both). */
export interface RemoteCandidateOptions extends CandidateOptions {
  /** The served model id to ask instead of the generator's own (llama-server's router mode: one id per adapter). */
  model?: string;
  /**
   * `logprobs` = log p of each token under the distribution it was sampled from (after temperature and filters;
   * exactly softmax(logits / T) with fullDistribution) instead of the raw one. llama-server only
   * (`post_sampling_probs`); implies scoreLogprobs.
   */
  samplingLogprobs?: boolean;
}

interface ServerChoice {
  index?: number;
  text?: unknown;
  finish_reason?: unknown;
  logprobs?: {
    content?: { id?: number; logprob?: number; prob?: number }[];
    token_logprobs?: (number | null)[];
  } | null;
}

/** A model behind an OpenAI-compatible completions endpoint. Create it with createOpenAiTextGenerator. */
export class OpenAiTextGenerator implements TextGenerator {
  /** @internal use createOpenAiTextGenerator(). */
  constructor(
    readonly baseUrl: string,
    /** The model id sent with each request. */
    readonly model: string,
    /** The vocabulary size when the server says it (llama-server), else undefined. */
    readonly vocabularySize: number | undefined,
    /** Whether the server is llama.cpp's llama-server (its sampling extensions are then sent). */
    readonly llamaServer: boolean,
    private readonly requestOptions: OpenAiRequestOptions,
  ) {}

  /** The most completions one request may ask for (llama-server: its slots, from `/props`); Infinity = no limit. */
  maxCandidatesPerRequest = Number.POSITIVE_INFINITY;

  /** The remote model's label (what `eval` prints as the model). */
  get path(): string {
    return `${OPENAI_MODEL_PREFIX}${this.baseUrl}`;
  }

  async generate(prompt: Prompt, params: Partial<GenerationParams> = {}, signal?: AbortSignal): Promise<Completion> {
    const temperature = params.temperature ?? resolveGenerationParams(params).temperature;
    const [completion] = await this.generateCandidates(prompt, 1, { ...params, temperatures: [temperature] }, signal);
    return completion!;
  }

  async generateCandidates(
    prompt: Prompt,
    n: number,
    params: Partial<GenerationParams> & RemoteCandidateOptions = {},
    signal?: AbortSignal,
  ): Promise<Completion[]> {
    if (!Number.isInteger(n) || n < 1)
      throw new InputError(`generateCandidates: n must be a positive integer, got ${n}`);
    const {
      temperatures = temperatureLadder(n),
      seeds,
      fullDistribution = false,
      scoreLogprobs: scoreRequested = true,
      samplingLogprobs = false,
      model = this.model,
      ...rest
    } = params;
    const scoreLogprobs = scoreRequested || samplingLogprobs;
    const p = resolveGenerationParams(rest);
    if (temperatures.length !== n || (seeds && seeds.length !== n))
      throw new InputError(
        `generateCandidates: ${n} candidates need ${n} temperatures and seeds, got ${temperatures.length} and ${seeds?.length ?? n}`,
      );
    if (samplingLogprobs && !this.llamaServer)
      throw new InputError(`${this.baseUrl} is not llama-server: it cannot return post-sampling log-probs`, {
        hint: 'serve the model with llama-server (docs/grpo.md "Rollout servers")',
      });
    if (p.grammar && !this.llamaServer)
      throw new InputError(`${this.baseUrl} is not llama-server: a GBNF grammar cannot be sent to it`, {
        hint: "leave the grammar out, or serve the model with llama-server",
      });
    const text = renderPrompt(prompt);
    if (text.length === 0) throw new InputError("generate: the prompt is empty");
    const seedOf = (i: number): number => seeds?.[i] ?? p.seed + i;
    // One request with n: same temperature, seeds seed, seed+1, … (llama-server's children take seed + i).
    const together =
      temperatures.every((t) => t === temperatures[0]) && temperatures.every((_, i) => seedOf(i) === seedOf(0) + i);
    const perRequest = Math.max(1, Math.min(n, this.maxCandidatesPerRequest));
    const groups: { first: number; count: number }[] = [];
    if (together)
      for (let first = 0; first < n; first += perRequest)
        groups.push({ first, count: Math.min(perRequest, n - first) });
    else for (let i = 0; i < n; i += 1) groups.push({ first: i, count: 1 });
    const results = await Promise.all(
      groups.map(({ first, count }) =>
        this.complete(
          text,
          count,
          { ...p, temperature: temperatures[first]!, seed: seedOf(first) },
          { fullDistribution, samplingLogprobs, model },
          signal,
        ),
      ),
    );
    return results.flat().map((c) => (scoreLogprobs ? c : { ...c, logprobs: [] }));
  }

  /** Nothing is held locally; for symmetry with LoadedModel. */
  async dispose(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async complete(
    prompt: string,
    n: number,
    p: GenerationParams,
    {
      fullDistribution,
      samplingLogprobs,
      model,
    }: { fullDistribution: boolean; samplingLogprobs: boolean; model: string },
    signal?: AbortSignal,
  ): Promise<Completion[]> {
    const filters = fullDistribution
      ? { top_k: 0, top_p: 1, min_p: 0 }
      : { top_k: p.topK, top_p: p.topP, min_p: p.minP };
    const body = {
      model,
      prompt,
      n,
      max_tokens: p.maxTokens,
      temperature: p.temperature,
      ...filters,
      seed: p.seed,
      ...(p.stop.length ? { stop: p.stop } : {}),
      logprobs: 1,
      ...(this.llamaServer
        ? {
            samplers: ["penalties", "top_k", "top_p", "min_p", "temperature"],
            repeat_penalty: p.repeatPenalty,
            repeat_last_n: 64,
            ...(p.grammar ? { grammar: p.grammar } : {}),
            ...(samplingLogprobs ? { post_sampling_probs: true } : {}),
          }
        : {}),
    };
    const t0 = performance.now();
    const answer = (await openAiRequest(`${this.baseUrl}/completions`, body, this.requestOptions, signal)) as {
      choices?: unknown;
    } | null;
    const ms = performance.now() - t0;
    const choices = answer && Array.isArray(answer.choices) ? (answer.choices as ServerChoice[]) : undefined;
    if (!choices || choices.length !== n || choices.some((c) => typeof c?.text !== "string"))
      throw new ModelError(
        "model.notOpenAi",
        `${this.baseUrl} is not an OpenAI-compatible server: POST /completions answered without ${n} choice${n === 1 ? "" : "s"} with text (${JSON.stringify(answer).slice(0, 200)})`,
        { hint: "the base URL is the server's OpenAI API root, e.g. --model openai:http://127.0.0.1:8080/v1" },
      );
    const ordered = [...choices].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return ordered.map((choice) => {
      const content = choice.logprobs?.content;
      const tokens = Array.isArray(content) ? content.map((t) => t.id).filter((id) => typeof id === "number") : [];
      const logprobs = Array.isArray(content)
        ? content.map((t) => (samplingLogprobs ? Math.log(t.prob ?? 0) : (t.logprob ?? Number.NEGATIVE_INFINITY)))
        : (choice.logprobs?.token_logprobs ?? []).map((l) => l ?? Number.NEGATIVE_INFINITY);
      const finishReason: FinishReason =
        choice.finish_reason === "length" ? "maxTokens" : p.stop.length > 0 ? "stop" : "eos";
      const count = Math.max(tokens.length, logprobs.length);
      return {
        text: choice.text as string,
        tokens: tokens as number[],
        logprobs,
        finishReason,
        adapter: null,
        timings: { promptMs: 0, generateMs: ms, tokensPerSecond: ms > 0 ? (count * 1000) / ms : 0 },
      };
    });
  }
}

/**
 * Connects to an OpenAI-compatible server and returns its TextGenerator. Errors (one line each, with a hint):
 * InputError for a URL that is not http(s); ModelError model.unreachable / model.notOpenAi / model.auth.
 * @example
 * const model = await createOpenAiTextGenerator({ url: "openai:http://127.0.0.1:8080/v1" });
 * const [candidate] = await model.generateCandidates({ text: "How many accounts?\nSQL:\n" }, 1);
 */
export async function createOpenAiTextGenerator(
  options: OpenAiTextGeneratorOptions | string,
): Promise<OpenAiTextGenerator> {
  const { url, ...requestOptions } = typeof options === "string" ? { url: options } : options;
  const { baseUrl, model } = parseOpenAiUrl(url);
  const answer = (await openAiRequest(`${baseUrl}/models`, undefined, { ...requestOptions, retries: 0 })) as {
    data?: { id?: unknown; owned_by?: unknown; meta?: { n_vocab?: unknown } }[];
  } | null;
  const listed = answer && Array.isArray(answer.data) ? answer.data : undefined;
  if (!listed || listed.some((m) => typeof m?.id !== "string"))
    throw new ModelError(
      "model.notOpenAi",
      `${baseUrl} is not an OpenAI-compatible server: GET /models answered without a model list (${JSON.stringify(answer).slice(0, 200)})`,
      { hint: "the base URL is the server's OpenAI API root, e.g. --model openai:http://127.0.0.1:8080/v1" },
    );
  const entry = model === undefined ? listed[0] : listed.find((m) => m.id === model);
  if (!entry)
    throw new ModelError(
      "model.notServed",
      `${baseUrl} serves ${listed.length ? listed.map((m) => m.id).join(", ") : "no model"}${model === undefined ? "" : `, not '${model}'`}`,
      { hint: `name a served model after the URL: --model openai:${baseUrl}#<model id>` },
    );
  const vocabulary = entry?.meta?.n_vocab;
  const generator = new OpenAiTextGenerator(
    baseUrl,
    entry!.id as string,
    typeof vocabulary === "number" ? vocabulary : undefined,
    entry?.owned_by === "llamacpp" || typeof vocabulary === "number",
    requestOptions,
  );
  if (generator.llamaServer) {
    const slots = await llamaServerSlots(baseUrl, undefined, requestOptions);
    if (slots !== undefined) generator.maxCandidatesPerRequest = slots;
  }
  return generator;
}

/**
 * llama-server's slots (`GET <root>/props` → `total_slots`; `model` names a router's model), the largest `n` it
 * takes; undefined when the server does not say (a proxy that does not forward /props).
 */
export async function llamaServerSlots(
  baseUrl: string,
  model: string | undefined,
  requestOptions: OpenAiRequestOptions = {},
): Promise<number | undefined> {
  const root = baseUrl.replace(/\/v1$/, "");
  const query = model === undefined ? "" : `?model=${encodeURIComponent(model)}`;
  const props = (await openAiRequest(`${root}/props${query}`, undefined, { ...requestOptions, retries: 0 }).catch(
    () => null,
  )) as { total_slots?: unknown } | null;
  const slots = props?.total_slots;
  return typeof slots === "number" && Number.isInteger(slots) && slots > 0 ? slots : undefined;
}
