/**
 * The one config of a GRPO run (`runGrpo`, `gl-rl train grpo`): the GRPO hyper-parameters of grpoConfig.ts plus
 * what to train on, with every default in DEFAULT_GRPO_RUN_CONFIG — the same with and without a config file.
 * `resolveGrpoRunConfig` fills the defaults and throws an InputError that says how to fix a bad field;
 * `grpoPolicyOptions` turns a config into the policy's options (docs/grpo.md "The adapter").
 */
import { InputError } from "../../errors.js";
import { GPU_CHOICES, type GpuName } from "../../models/llamaRuntime.js";
import { parseOpenAiUrl } from "../../models/openAiTextGenerator.js";
import type { PromptStyle } from "../../models/promptTemplates.js";
import { DEFAULT_REWARD_COMPONENTS } from "../../rewards/weightedReward.js";
import { DEFAULT_GRPO_CONFIG, resolveGrpoConfig, type GrpoConfig } from "./grpoConfig.js";
import type { NativePolicyOptions } from "../nativePolicy.js";

/** Everything `runGrpo` needs: the GRPO hyper-parameters (grpoConfig.ts) plus what to train on. */
export interface GrpoRunConfig extends GrpoConfig {
  /** Base model GGUF (sampler and policy load the same file). Required. */
  model: string;
  /** An SFT LoRA adapter GGUF to start from (policy initPath, sampler's first adapter). Default none. */
  adapter?: string;
  /** Database spec (sql/openDatabase.ts): "demo", "pglite:<dir>", "postgres://…". Default "demo". */
  database: string;
  /** Train split name (train | dev | test | test_unseen of the demo dataset) or a JSONL path. Default "train". */
  trainSplit: string;
  /** Split for the periodic execution accuracy. Default "dev". */
  evalSplit: string;
  /** Evaluate on the first N examples of evalSplit; 0 = all. Default 0. */
  evalLimit: number;
  /**
   * Prompt style (docs/prompts.md). Default "auto": by model, as ask, eval and train sft choose it
   * (task/text2sqlPrompt.ts `promptStyleForModel`: "tiny" for the tiny demo model, else "schemaAware");
   * the session's config holds the resolved style.
   */
  promptStyle: PromptStyle | "auto";
  /**
   * LoRA rank r of a FRESH adapter; 0 = by model size (NativePolicy: 64 for real Qwen models, 8 for the tiny
   * one). With `adapter` it must stay 0: the starting adapter's rank, alpha and targets come from its file. Default 0.
   */
  loraRank: number;
  /** LoRA alpha (scale alpha/r) of a fresh adapter; 0 = by model size (128 / 16); 0 with `adapter`. Default 0. */
  loraAlpha: number;
  /** Sampler sequences (parallel generations); 0 = groupSize. Default 0. */
  sequences: number;
  /** CPU threads of the policy (ggml); 0 = `GL_RL_THREADS` or physical cores. Default 1 (see samplerThreads; bench/grpo.ts: 2.1× faster here with 1). */
  threads: number;
  /**
   * CPU threads of the sampler (llama.cpp); 0 = `GL_RL_THREADS` or llama.cpuMathCores. Default 1: ggml threads spin, and
   * on a busy 2-core machine 32 tokens × 4 sequences took 0.3–0.5 s with 1 thread but 43 s with 2.
   */
  samplerThreads: number;
  /** Overlap validation/execution with generation. Default true. */
  overlapScoring: boolean;
  /** Device of the policy and the sampler (NativePolicyOptions.gpu): "auto" (default), "cpu", "cuda", "vulkan", "metal". */
  gpu: GpuName;
  /** Recompute each layer's activations in the backward (NativePolicyOptions.recompute): less memory, same gradients. Default false. */
  recompute: boolean;
  /**
   * Reward weights by component name over DEFAULT_REWARD_COMPONENTS, e.g. `{ "value_linking": 0.2 }`
   * (rewards/weightedReward.ts). Default {} (the default mix).
   */
  rewardWeights: Record<string, number>;
  /**
   * Variants of the database in the reward's test suite (docs/execution-match.md "Test suite"): the match pays
   * only for a result that equals the gold's on the database and on each variant. 0 = the database alone. Default 3.
   */
  testSuite: number;
  /**
   * Rollout servers (docs/grpo.md "Rollout servers"): llama-server routers that sample the groups instead of the
   * in-process sampler, e.g. ["http://127.0.0.1:8080"]. Default [] (in-process).
   */
  rolloutUrls: string[];
  /** The preset file the rollout servers were started with (`--models-preset`); the trainer rewrites it each step. */
  rolloutPreset: string;
}

export const DEFAULT_GRPO_RUN_CONFIG: Readonly<Omit<GrpoRunConfig, "model" | "adapter">> = Object.freeze({
  ...DEFAULT_GRPO_CONFIG,
  database: "demo",
  trainSplit: "train",
  evalSplit: "dev",
  evalLimit: 0,
  promptStyle: "auto" as PromptStyle | "auto",
  loraRank: 0,
  loraAlpha: 0,
  sequences: 0,
  threads: 1,
  samplerThreads: 1,
  overlapScoring: true,
  gpu: "auto" as GpuName,
  recompute: false,
  rewardWeights: {},
  testSuite: 3,
  rolloutUrls: [] as string[],
  rolloutPreset: "",
});

const RUN_FIELDS = new Set([
  "model",
  "adapter",
  ...Object.keys(DEFAULT_GRPO_RUN_CONFIG).filter((k) => !(k in DEFAULT_GRPO_CONFIG)),
]);

/** Fills defaults and checks every field; throws an InputError that says how to fix a bad one. */
export function resolveGrpoRunConfig(partial: Partial<GrpoRunConfig>): GrpoRunConfig {
  const grpoPart = Object.fromEntries(
    Object.entries(partial).filter(([k]) => !RUN_FIELDS.has(k)),
  ) as Partial<GrpoConfig>;
  const grpo = resolveGrpoConfig(grpoPart);
  const c: GrpoRunConfig = { ...DEFAULT_GRPO_RUN_CONFIG, ...partial, ...grpo } as GrpoRunConfig;
  const need = (ok: boolean, field: keyof GrpoRunConfig, what: string) => {
    if (!ok)
      throw new InputError(`GRPO run config: ${field} = ${JSON.stringify(c[field])} is invalid`, {
        hint: `set ${field} to ${what}`,
      });
  };
  need(typeof c.model === "string" && c.model.length > 0, "model", "the path of the base model GGUF (or an hf: URI)");
  need(
    c.adapter === undefined || (typeof c.adapter === "string" && c.adapter.length > 0),
    "adapter",
    "the path of an SFT LoRA adapter GGUF, or leave it out",
  );
  need(
    ["auto", "tiny", "zeroShot", "fewShot", "reasoningFirst", "schemaAware"].includes(c.promptStyle),
    "promptStyle",
    "auto (by model), tiny, zeroShot, fewShot, reasoningFirst or schemaAware",
  );
  need(Number.isInteger(c.loraRank) && c.loraRank >= 0, "loraRank", "an integer ≥ 0 (0 = by model size), e.g. 8");
  need(c.loraAlpha >= 0, "loraAlpha", "a number ≥ 0 (0 = by model size), e.g. 2 × loraRank");
  if (c.adapter !== undefined && (c.loraRank > 0 || c.loraAlpha > 0))
    throw new InputError(
      `GRPO run config: loraRank/loraAlpha (${c.loraRank}/${c.loraAlpha}) apply only to a fresh adapter, but adapter = ${c.adapter}`,
      { hint: "leave loraRank and loraAlpha out: a starting adapter's rank, alpha and targets come from its GGUF" },
    );
  need(Number.isInteger(c.sequences) && c.sequences >= 0, "sequences", "an integer ≥ 0 (0 = groupSize)");
  need(Number.isInteger(c.threads) && c.threads >= 0, "threads", "an integer ≥ 0 (0 = physical cores)");
  need(
    Number.isInteger(c.samplerThreads) && c.samplerThreads >= 0,
    "samplerThreads",
    "an integer ≥ 0 (0 = llama.cpp's math cores)",
  );
  need(
    Number.isInteger(c.testSuite) && c.testSuite >= 0 && c.testSuite <= 16,
    "testSuite",
    "an integer from 0 (the database alone) to 16, e.g. 3",
  );
  need(Number.isInteger(c.evalLimit) && c.evalLimit >= 0, "evalLimit", "an integer ≥ 0 (0 = the whole split)");
  need((GPU_CHOICES as readonly string[]).includes(c.gpu), "gpu", GPU_CHOICES.join(", "));
  need(typeof c.recompute === "boolean", "recompute", "true or false");
  need(
    typeof c.rewardWeights === "object" &&
      c.rewardWeights !== null &&
      !Array.isArray(c.rewardWeights) &&
      Object.values(c.rewardWeights).every((w) => typeof w === "number" && Number.isFinite(w)),
    "rewardWeights",
    'an object of finite numbers by reward component name, e.g. { "value_linking": 0.2 }',
  );
  need(
    Array.isArray(c.rolloutUrls) && c.rolloutUrls.every((u) => typeof u === "string" && u.length > 0),
    "rolloutUrls",
    'a list of rollout server URLs, e.g. ["http://127.0.0.1:8080"] (or [] to sample in-process)',
  );
  for (const url of c.rolloutUrls) parseOpenAiUrl(url); // not http(s): an InputError with the form to use
  need(
    typeof c.rolloutPreset === "string" && (c.rolloutUrls.length === 0 || c.rolloutPreset.length > 0),
    "rolloutPreset",
    "the preset file the rollout servers were started with (llama-server --models-preset <file>)",
  );
  DEFAULT_REWARD_COMPONENTS({ weights: c.rewardWeights }); // an unknown component name throws here, before anything loads
  return c;
}

/**
 * The policy of a GRPO run: LoRA on the base model with dropout 0 on every path (RL takes the gradient of the
 * same function whose ratio and KL it computes). A fresh adapter gets loraRank/loraAlpha (0: by model size);
 * a starting adapter (`adapter` → initPath) brings its own rank, alpha and targets from its GGUF, and is the
 * frozen KL reference (KL = 0 at step 0).
 */
export function grpoPolicyOptions(
  config: Pick<GrpoRunConfig, "adapter" | "loraRank" | "loraAlpha" | "seed" | "threads"> & {
    gpu?: GpuName;
    recompute?: boolean;
  },
  modelPath: string,
): NativePolicyOptions {
  const lora: NonNullable<NativePolicyOptions["lora"]> =
    config.adapter === undefined
      ? {
          ...(config.loraRank > 0 ? { rank: config.loraRank } : {}),
          ...(config.loraAlpha > 0 ? { alpha: config.loraAlpha } : {}),
          dropout: 0,
          seed: config.seed + 42,
        }
      : { initPath: config.adapter, dropout: 0, seed: config.seed + 42 };
  return {
    modelPath,
    trainable: "lora",
    lora,
    ...(config.threads > 0 ? { threads: config.threads } : {}),
    ...(config.gpu && config.gpu !== "auto" ? { gpu: config.gpu } : {}),
    ...(config.recompute ? { recompute: true } : {}),
  };
}
