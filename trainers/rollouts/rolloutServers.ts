/**
 * GRPO's rollouts on model servers (`gl-rl train grpo --rollout-url <url>[,<url>…] --rollout-preset <file>`,
 * docs/grpo.md "Rollout servers"): the servers sample the groups, the trainer only trains.
 *
 *   servers     llama.cpp's llama-server in router mode (`llama-server --models-preset <file> …`, no `-m`): the
 *               router serves every model of its preset file, each in a child llama-server it starts on first use
 *               and stops when the model leaves the file. One preset file, written by the trainer, read by every
 *               server (the same path on a shared filesystem; the base GGUF and the adapters too).
 *   adapter     `setAdapter(path)`: the preset file is rewritten (temp + rename) with ONE section, the version's
 *               model id → `model = <base GGUF>`, `lora = <adapter>` (none for the base); then on every server
 *               `GET /models?reload=1` (the router drops the old version's child) and `POST /models/load` for the
 *               new id, waited on until `/models` says loaded — so the step's cost is paid in the swap, not in the
 *               first request of the next step. Measured per step in docs/grpo.md "Rollout servers".
 *   versions    model id = `gl-rl-<adapter file name>-<hash of its path>` (`gl-rl-base-…` without one): a function of
 *               the path, so a resumed run asks for the same ids; each completion's `adapter` is the path of the
 *               version that sampled it (completions.jsonl).
 *   sampling    each prompt's group goes to the next server (round robin), with `fullDistribution` and
 *               post-sampling log-probs (models/openAiTextGenerator.ts `samplingLogprobs`): log π_sampler of every
 *               token, which the trainer's truncated importance-sampling correction divides by (grpoLoss.ts).
 *
 * Why router mode (docs/grpo.md "Rollout servers", measured): llama-server loads LoRA files only at start (`--lora`;
 * `POST /lora-adapters` sets the scales of those), so a new adapter per step means a new llama-server process; the
 * router starts it by HTTP, where a plain server would have to be restarted by whoever owns its process.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { InputError, ModelError } from "../../errors.js";
import { openAiRequest, type OpenAiRequestOptions } from "../../models/openAiRequest.js";
import { resolveGenerationParams } from "../../models/generationParams.js";
import { llamaServerSlots, OpenAiTextGenerator, parseOpenAiUrl } from "../../models/openAiTextGenerator.js";
import type {
  CandidateOptions,
  Completion,
  GenerationParams,
  Prompt,
  TextGenerator,
} from "../../models/textGenerator.js";

export interface RolloutServerOptions {
  /** The servers' URLs (`http://host:port`, `…/v1`, or `openai:` before either). */
  urls: readonly string[];
  /** The preset file every server was started with (`--models-preset`); the trainer owns it and rewrites it whole. */
  presetPath: string;
  /** The base GGUF (the trainer's; the servers must read it at this path). */
  baseModel: string;
  /** How long a version may take to load on a server, ms. Default 300000. */
  loadTimeoutMs?: number;
  /** Per-request options (timeout, retries, API key). */
  request?: OpenAiRequestOptions;
}

/** The served model id of an adapter version: a function of its path (a resumed run asks for the same ids). */
export function rolloutModelId(adapter: string | null): string {
  if (adapter === null) return "gl-rl-base";
  const path = resolve(adapter);
  const name = basename(path)
    .replace(/\.gguf$/i, "")
    .replace(/[^A-Za-z0-9_.-]+/g, "_");
  return `gl-rl-${name}-${createHash("sha256").update(path).digest("hex").slice(0, 8)}`;
}

/** The preset file for one version: the model id's section, `model` and (unless base) `lora`. */
export function rolloutPreset(baseModel: string, adapter: string | null): string {
  const lines = [
    "; written by gl-rl train grpo (trainers/rollouts/rolloutServers.ts): one section, the adapter being sampled.",
    "; Server-wide flags belong on the router's command line; this file is rewritten at every step.",
    "version = 1",
    "",
    `[${rolloutModelId(adapter)}]`,
    `model = ${resolve(baseModel)}`,
    ...(adapter === null ? [] : [`lora = ${resolve(adapter)}`]),
    "",
  ];
  return lines.join("\n");
}

interface RouterModel {
  id?: unknown;
  status?: { value?: unknown; failed?: unknown; exit_code?: unknown } | unknown;
}

/** One server: its OpenAI generator (for sampling) and its router root (for the model list). */
interface RolloutServer {
  generator: OpenAiTextGenerator;
  /** The router's root, where `/models?reload=1` and `/models/load` live (the OpenAI root without `/v1`). */
  root: string;
}

/** The trainer's side of the rollout servers: a GrpoSampler (generateCandidates + setAdapter) over all of them. */
export class RolloutServers {
  /** Completions carry the servers' own log-probs of their tokens: the trainer corrects for the mismatch. */
  readonly samplingLogprobs = true;
  private version: { adapter: string | null; id: string } | null = null;
  private next = 0;
  /** Milliseconds each setAdapter spent, per phase (the last call): preset write + reload, load. */
  lastSwap = { reloadMs: 0, loadMs: 0 };

  /** @internal use openRolloutServers(). */
  constructor(
    private readonly servers: readonly RolloutServer[],
    private readonly options: Required<Pick<RolloutServerOptions, "presetPath" | "baseModel" | "loadTimeoutMs">> &
      Pick<RolloutServerOptions, "request">,
  ) {}

  /** The servers' OpenAI roots. */
  get urls(): string[] {
    return this.servers.map((s) => s.generator.baseUrl);
  }

  /** The adapter the servers sample now (null: the base model). */
  get adapter(): string | null {
    return this.version?.adapter ?? null;
  }

  /**
   * G completions of one prompt from the next server, sampled by the current version, with each token's
   * log-probability under the distribution it was drawn from (`logprobs`) and the version's path (`adapter`).
   */
  generateCandidates(
    prompt: Prompt,
    n: number,
    params: Partial<GenerationParams> & CandidateOptions = {},
    signal?: AbortSignal,
  ): Promise<Completion[]> {
    return this.sample(prompt, n, params, signal, true);
  }

  private async sample(
    prompt: Prompt,
    n: number,
    params: Partial<GenerationParams> & CandidateOptions,
    signal: AbortSignal | undefined,
    samplingLogprobs: boolean,
  ): Promise<Completion[]> {
    const version = this.version;
    if (version === null)
      throw new InputError("rollout servers: no adapter version is loaded yet", {
        hint: "call setAdapter(path | null) before sampling (runGrpo does)",
      });
    const server = this.servers[this.next++ % this.servers.length]!;
    const completions = await server.generator.generateCandidates(
      prompt,
      n,
      { ...params, model: version.id, samplingLogprobs },
      signal,
    );
    return completions.map((c) => ({ ...c, adapter: version.adapter }));
  }

  /** Serves `adapter` (null: the base model) on every server; resolves when each has it loaded. */
  async setAdapter(adapter: string | null): Promise<void> {
    const id = rolloutModelId(adapter);
    const t0 = performance.now();
    mkdirSync(dirname(resolve(this.options.presetPath)), { recursive: true });
    const temp = `${this.options.presetPath}.${process.pid}.tmp`;
    writeFileSync(temp, rolloutPreset(this.options.baseModel, adapter));
    renameSync(temp, this.options.presetPath);
    await Promise.all(this.servers.map((s) => this.reload(s, id)));
    const t1 = performance.now();
    await Promise.all(this.servers.map((s) => this.load(s, id)));
    this.lastSwap = { reloadMs: t1 - t0, loadMs: performance.now() - t1 };
    this.version = { adapter, id };
  }

  /** A TextGenerator on the current version (the run's dev evaluation asks the servers, as deployment would). */
  generator(): TextGenerator {
    const candidates: TextGenerator["generateCandidates"] = (prompt, n, params = {}, signal) =>
      this.sample(prompt, n, params, signal, false);
    return {
      generateCandidates: candidates,
      generate: async (prompt, params = {}, signal) => {
        const temperature = params.temperature ?? resolveGenerationParams(params).temperature;
        const [first] = await candidates(prompt, 1, { ...params, temperatures: [temperature] }, signal);
        return first!;
      },
    };
  }

  /** The router re-reads the preset file; the version must then be listed (else the file is not the server's). */
  private async reload(server: RolloutServer, id: string): Promise<void> {
    const listed = (await routerModels(server.root, this.options.request, true)) ?? [];
    if (!listed.some((m) => m.id === id))
      throw new InputError(
        `rollout server ${server.root} did not pick up ${this.options.presetPath}: after ?reload=1 it lists ${listed.map((m) => String(m.id)).join(", ") || "no model"}, not ${id}`,
        {
          hint: `start it with the same preset file: llama-server --models-preset ${resolve(this.options.presetPath)} --port <port> …`,
        },
      );
  }

  /** POST /models/load, then poll /models until the version is loaded (or failed, or the time is up). */
  private async load(server: RolloutServer, id: string): Promise<void> {
    const status = async () => {
      const entry = (await routerModels(server.root, this.options.request, false))?.find((m) => m.id === id);
      return (entry?.status ?? {}) as { value?: unknown; failed?: unknown; exit_code?: unknown };
    };
    if ((await status()).value !== "loaded")
      await openAiRequest(`${server.root}/models/load`, { model: id }, { ...this.options.request, retries: 0 }).catch(
        (error: unknown) => {
          // Another caller (or the router's autoload) may have started it in between: that is fine.
          if (!(error instanceof ModelError && /already running/i.test(error.message))) throw error;
        },
      );
    const deadline = Date.now() + this.options.loadTimeoutMs;
    for (let wait = 20; ; wait = Math.min(500, wait * 2)) {
      const s = await status();
      if (s.value === "loaded") {
        // Its slots cap `n` per request (a group larger than --parallel goes as several requests).
        const slots = await llamaServerSlots(server.root, id, this.options.request);
        server.generator.maxCandidatesPerRequest = slots ?? Number.POSITIVE_INFINITY;
        return;
      }
      if (s.failed === true || (s.value === "unloaded" && s.exit_code !== undefined && s.exit_code !== 0))
        throw new ModelError(
          "model.loadFailed",
          `rollout server ${server.root} could not load ${id} (exit code ${String(s.exit_code)})`,
          {
            hint: "the base GGUF and the adapter must be readable at the same paths on the server; its log says why",
          },
        );
      if (Date.now() > deadline)
        throw new ModelError(
          "model.loadTimeout",
          `rollout server ${server.root} did not load ${id} within ${this.options.loadTimeoutMs} ms`,
          { hint: "a large base model loads slowly the first time; raise loadTimeoutMs" },
        );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** The router's model list (`GET <root>/models`, `?reload=1` to re-read the preset file); null: no list at all. */
async function routerModels(
  root: string,
  request: OpenAiRequestOptions | undefined,
  reload: boolean,
): Promise<RouterModel[] | null> {
  const answer = (await openAiRequest(`${root}/models${reload ? "?reload=1" : ""}`, undefined, request)) as {
    data?: RouterModel[];
  } | null;
  return answer && Array.isArray(answer.data) ? answer.data : null;
}

/**
 * Connects to the rollout servers and checks that each is a llama-server router; the first version (the base,
 * or the run's starting adapter) is the caller's setAdapter. Errors say what the server is and how to start it.
 * @example
 * const servers = await openRolloutServers({ urls: ["http://127.0.0.1:8080"], presetPath: "/shared/rollout.ini", baseModel: "qwen.gguf" });
 * await servers.setAdapter(null);
 */
export async function openRolloutServers(options: RolloutServerOptions): Promise<RolloutServers> {
  if (options.urls.length === 0)
    throw new InputError("rollout servers: no URL given", { hint: "--rollout-url http://127.0.0.1:8080[,…]" });
  if (!options.presetPath)
    throw new InputError("rollout servers need the preset file they were started with", {
      hint: "pass --rollout-preset <file> (config rolloutPreset) — the file of the servers' --models-preset",
    });
  const servers: RolloutServer[] = [];
  for (const url of options.urls) {
    const { baseUrl } = parseOpenAiUrl(url);
    const root = baseUrl.replace(/\/v1$/, "");
    const models = await routerModels(root, { ...options.request, retries: 0 }, false);
    if (models === null || models.some((m) => typeof m.status !== "object" || m.status === null)) {
      const owner = (models?.[0] as { owned_by?: unknown } | undefined)?.owned_by;
      throw new InputError(
        `${root} is not a llama-server in router mode${owner === undefined ? "" : ` (its models are owned by '${String(owner)}')`}: a new adapter cannot reach it after each step`,
        {
          hint: `${
            owner === "llamacpp"
              ? "a llama-server started with -m loads LoRA only at start; start it without -m"
              : owner === "vllm"
                ? "vLLM loads PEFT adapters, not gl-rl's GGUF ones (not supported yet); serve the base GGUF with llama-server in router mode"
                : "start llama-server in router mode"
          }: llama-server --models-preset ${resolve(options.presetPath)} --port <port> (docs/grpo.md "Rollout servers")`,
        },
      );
    }
    // A router's list may be empty until the first version is written: the generator names the model per request.
    servers.push({ generator: new OpenAiTextGenerator(baseUrl, "", undefined, true, options.request ?? {}), root });
  }
  return new RolloutServers(servers, {
    presetPath: resolve(options.presetPath),
    baseModel: options.baseModel,
    loadTimeoutMs: options.loadTimeoutMs ?? 300_000,
    ...(options.request ? { request: options.request } : {}),
  });
}
