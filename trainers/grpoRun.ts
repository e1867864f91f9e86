/**
 * GRPO on the real stack, from one config (the loop is trainers/grpoTrainer.ts, one step grpoStep.ts):
 *
 *   1. open the database (sql/openDatabase.ts spec) and read its schema → the reward environment
 *      (trainers/sqlRewardEnvironment.ts), a gold-result cache and the weighted reward
 *      (DEFAULT_REWARD_COMPONENTS, bare SQL for the "tiny" style)
 *   2. load the train split and build prompts; prompt tokens = the model's tokenizer on the rendered prompt
 *      with special tokens — exactly what LoadedModel.generateCandidates feeds the sampler; prompts whose gold
 *      result is empty (it would reward every empty result of its width) or whose gold fails are left out and
 *      counted (filterGrpoPrompts.ts; logged at step 0 of metrics.jsonl)
 *   3. the sampler: LoadedModel on the base GGUF, f32 KV cache (its log-probs match the trainer's forward),
 *      `sequences` = groupSize, sampling exactly softmax(logits / T) (`fullDistribution`: no top-k/top-p/min-p,
 *      no sort of the vocabulary) without re-scoring completions (`scoreLogprobs: false`: the policy computes
 *      the log-probs); starts on the SFT adapter when one is given
 *   4. the policy: NativePolicy on the SAME base GGUF, LoRA, dropout 0 (the gradient must come from the
 *      function the ratio uses); a fresh adapter takes loraRank/loraAlpha, a starting adapter (initPath) keeps
 *      its own rank, alpha and targets; the KL reference is the policy as it starts (grpoPolicyOptions)
 *   5. scoring overlaps generation: as soon as one prompt's group is sampled, its candidates are extracted,
 *      validated and executed (the PGlite worker runs off the main thread) while other groups still decode;
 *      `scoreRewards` then awaits the prepared samples and applies the weighted reward
 *   6. trainGrpo: steps, metrics.jsonl (per step: reward mean/std per component, KL, clip fraction, loss,
 *      grad norm, completion length, zero-variance groups, tokens/s, timings; dev EX every evalEvery steps),
 *      checkpoints (LoRA + AdamW moments + step; sampling seeds and dropout masks are functions of
 *      (seed, step), so the step is the whole RNG state), resume after a kill, final <outDir>/adapter.gguf
 *
 * @example
 * const result = await runGrpo({ model: "demo.gguf", maxSteps: 20, outDir: "runs/grpo" });
 * console.log(result.adapterPath, result.evaluations.at(-1));
 */
import { defaultBusinessRules } from "../sql/businessRules.js";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { loadDataset, type DatasetItem } from "../data/loadDataset.js";
import { InputError } from "../errors.js";
import { extractSql } from "../models/extractSql.js";
import { GPU_CHOICES, type GpuName } from "../models/llamaRuntime.js";
import { loadModel, type LoadedModel } from "../models/loadModel.js";
import { trainingTokens, type PromptStyle, type PromptTokenizer } from "../models/promptTemplates.js";
import type { CandidateOptions, Completion, GenerationParams, Prompt } from "../models/textGenerator.js";
import {
  createGoldResultCache,
  prepareRewardSamples,
  type GoldResultCache,
  type RewardCandidate,
  type RewardEnvironment,
} from "../rewards/prepareRewardSamples.js";
import type { RewardSample } from "../rewards/rewardSample.js";
import {
  createWeightedReward,
  DEFAULT_REWARD_COMPONENTS,
  type RewardComponent,
  type WeightedReward,
  type WeightedRewardResult,
} from "../rewards/weightedReward.js";
import { openDatabase } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { taskDatabase } from "../task/taskDatabase.js";
import { buildTaskPrompts, promptStyleForModel, taskPrompt } from "../task/text2sqlPrompt.js";
import type { EvaluationReport } from "./evaluate.js";
import { evaluateModel } from "./evaluateModel.js";
import { DEFAULT_GRPO_CONFIG, resolveGrpoConfig, type GrpoConfig } from "./grpoConfig.js";
import type { GrpoPrompt, GrpoSampler } from "./grpoStep.js";
import { trainGrpo, type GrpoRunOptions, type GrpoRunResult } from "./grpoTrainer.js";
import { filterGrpoPrompts, type GrpoPromptStats } from "./filterGrpoPrompts.js";
import { NativePolicy, type NativePolicyOptions } from "./nativePolicy.js";
import type { TrainingProgressFactory } from "./trainingProgress.js";
import { createSqlRewardEnvironment } from "../rewards/sqlRewardEnvironment.js";

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
  /**
   * Reward weights by component name over DEFAULT_REWARD_COMPONENTS, e.g. `{ "value_linking": 0.2 }`
   * (rewards/weightedReward.ts). Default {} (the default mix).
   */
  rewardWeights: Record<string, number>;
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
  rewardWeights: {},
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
  need(Number.isInteger(c.evalLimit) && c.evalLimit >= 0, "evalLimit", "an integer ≥ 0 (0 = the whole split)");
  need((GPU_CHOICES as readonly string[]).includes(c.gpu), "gpu", GPU_CHOICES.join(", "));
  need(
    typeof c.rewardWeights === "object" &&
      c.rewardWeights !== null &&
      !Array.isArray(c.rewardWeights) &&
      Object.values(c.rewardWeights).every((w) => typeof w === "number" && Number.isFinite(w)),
    "rewardWeights",
    'an object of finite numbers by reward component name, e.g. { "value_linking": 0.2 }',
  );
  DEFAULT_REWARD_COMPONENTS({ weights: c.rewardWeights }); // an unknown component name throws here, before anything loads
  return c;
}

// ─── prompts ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Dataset items → GRPO prompts: the task's prompts (task/text2sqlPrompt.ts, exactly what `ask` sends; the
 * non-tiny styles' come from `buildTaskPrompts(db, style, items)`, "tiny" needs none), with token ids that are
 * the sampler's own tokenization of the rendered prompt (`trainingTokens`).
 */
export function buildGrpoPrompts(
  tokenizer: PromptTokenizer,
  items: readonly DatasetItem[],
  style: PromptStyle,
  prompts?: readonly Prompt[],
): GrpoPrompt[] {
  return items.map((item, i) => {
    const prompt = prompts?.[i] ?? taskPrompt(style, item);
    return {
      id: item.id,
      question: item.question,
      goldSql: item.sql,
      prompt,
      promptTokens: trainingTokens(tokenizer, prompt, "").promptTokens,
    };
  });
}

// ─── scoring ─────────────────────────────────────────────────────────────────────────────────────────

/** Scoring with prefetch: candidates prepared early (during generation) are picked up by `scoreRewards`. */
export interface RewardScorer {
  /** Starts validate → execute → compare of a candidate now; `scoreRewards` will reuse the result. */
  prefetch(candidate: RewardCandidate): void;
  /** GrpoStepDependencies.scoreRewards: prepared samples (prefetched or not) → weighted reward. */
  scoreRewards(candidates: RewardCandidate[]): Promise<WeightedRewardResult>;
  /** Samples of the last scoreRewards call (for inspection and tests). */
  readonly lastSamples: readonly RewardSample[];
  /** Time of the last scoreRewards call: waiting for preparation vs the reward functions, ms. */
  readonly lastTimings: { prepareMs: number; rewardMs: number };
}

const candidateKey = (c: RewardCandidate): string =>
  JSON.stringify([c.question, c.completion, c.sql, c.goldSql ?? null]);

export function createRewardScorer(
  env: RewardEnvironment,
  reward: WeightedReward,
  gold: GoldResultCache = createGoldResultCache(env),
): RewardScorer {
  const pending = new Map<string, Promise<RewardSample>[]>();
  const prepareOne = (c: RewardCandidate) => prepareRewardSamples([c], env, gold).then((s) => s[0]!);
  let lastSamples: readonly RewardSample[] = [];
  let lastTimings = { prepareMs: 0, rewardMs: 0 };
  return {
    prefetch(candidate) {
      const key = candidateKey(candidate);
      const list = pending.get(key) ?? [];
      const started = prepareOne(candidate);
      started.catch(() => undefined); // awaited (and rethrown) by scoreRewards
      list.push(started);
      pending.set(key, list);
    },
    async scoreRewards(candidates) {
      const t0 = performance.now();
      const samples = await Promise.all(
        candidates.map((c) => {
          const list = pending.get(candidateKey(c));
          const early = list?.shift();
          if (list?.length === 0) pending.delete(candidateKey(c));
          return early ?? prepareOne(c);
        }),
      );
      const t1 = performance.now();
      const result = await reward(samples);
      lastSamples = samples;
      lastTimings = { prepareMs: t1 - t0, rewardMs: performance.now() - t1 };
      return result;
    },
    get lastSamples() {
      return lastSamples;
    },
    get lastTimings() {
      return lastTimings;
    },
  };
}

/** Completion text → the SQL in it (models/extractSql.ts). */
export const extractCandidateSql = (text: string): string | null => extractSql(text).sql;

/**
 * What GRPO samples with: exactly softmax(logits / T) — no top-k/top-p/min-p stage, no repeat penalty — and no
 * re-scoring of the completions (the policy computes the log-probs the loss uses). The step adds T, seeds and
 * the token limit.
 */
export const GRPO_SAMPLING: Readonly<Partial<GenerationParams> & CandidateOptions> = Object.freeze({
  fullDistribution: true,
  scoreLogprobs: false,
  minP: 0,
  repeatPenalty: 1,
});

/**
 * The GRPO sampler over a LoadedModel: fixed sampling params (GRPO_SAMPLING) merged under the step's, and each
 * finished group handed to `onGroup` (the scorer's prefetch) while other groups still generate.
 */
export function createGrpoSampler(
  model: Pick<LoadedModel, "generateCandidates" | "setAdapter">,
  params: Partial<GenerationParams> & CandidateOptions,
  onGroup?: (prompt: Prompt, completions: readonly Completion[]) => void,
): GrpoSampler {
  return {
    async generateCandidates(
      prompt: Prompt,
      n: number,
      options: Partial<GenerationParams> & CandidateOptions = {},
      signal?: AbortSignal,
    ) {
      const completions = await model.generateCandidates(prompt, n, { ...params, ...options }, signal);
      onGroup?.(prompt, completions);
      return completions;
    },
    setAdapter: (path: string) => model.setAdapter(path),
  };
}

/** The metrics key prefix of an eval split: its name ("dev"), or a JSONL file's base name ("my_questions"). */
export function evalMetricPrefix(split: string): string {
  return (
    basename(split)
      .replace(/\.jsonl?$/, "")
      .replace(/[^A-Za-z0-9]+/g, "_") || "eval"
  );
}

/**
 * The policy of a GRPO run: LoRA on the base model with dropout 0 on every path (RL takes the gradient of the
 * same function whose ratio and KL it computes). A fresh adapter gets loraRank/loraAlpha (0: by model size);
 * a starting adapter (`adapter` → initPath) brings its own rank, alpha and targets from its GGUF, and is the
 * frozen KL reference (KL = 0 at step 0).
 */
export function grpoPolicyOptions(
  config: Pick<GrpoRunConfig, "adapter" | "loraRank" | "loraAlpha" | "seed" | "threads"> & { gpu?: GpuName },
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
  };
}

// ─── session ─────────────────────────────────────────────────────────────────────────────────────────

/** Everything a GRPO run holds open; `dispose()` releases what the session opened itself. */
export interface GrpoSession {
  config: GrpoRunConfig;
  model: LoadedModel;
  policy: NativePolicy;
  executor: SqlExecutor;
  env: RewardEnvironment;
  scorer: RewardScorer;
  sampler: GrpoSampler;
  prompts: GrpoPrompt[];
  /** What happened to the train split's prompts before training (left out for an empty or failing gold). */
  promptStats: GrpoPromptStats;
  /** Dev execution accuracy (greedy) with the sampler's current adapter. */
  evaluate(limit?: number): Promise<EvaluationReport>;
  /** trainGrpo's options for this session. */
  trainOptions(): Omit<GrpoRunOptions, "config">;
  dispose(): Promise<void>;
}

export interface GrpoSessionOptions {
  /** Use this database instead of opening `config.database` (not closed by dispose). */
  executor?: SqlExecutor;
  /** Reward components instead of DEFAULT_REWARD_COMPONENTS. */
  rewardComponents?: Record<string, RewardComponent>;
  /** Train prompts instead of loading `config.trainSplit`. */
  trainItems?: readonly DatasetItem[];
  /** Evaluation examples instead of loading `config.evalSplit`. */
  evalItems?: readonly DatasetItem[];
}

/** Opens the database, model, policy and reward pipeline of a GRPO run. */
export async function createGrpoSession(
  partial: Partial<GrpoRunConfig>,
  options: GrpoSessionOptions = {},
): Promise<GrpoSession> {
  const config = resolveGrpoRunConfig(partial);
  const opened: { dispose(): Promise<unknown> }[] = [];
  try {
    const executor = options.executor ?? (await openDatabase(config.database));
    if (!options.executor) opened.push({ dispose: () => executor.close() });
    const env = await createSqlRewardEnvironment(executor);
    const gold = createGoldResultCache(env);

    const model = await loadModel({
      model: config.model,
      gpu: config.gpu,
      kvCacheF32: true,
      sequences: config.sequences || config.groupSize,
      download: false,
      ...(config.samplerThreads > 0 ? { threads: config.samplerThreads } : {}),
    });
    opened.push(model);
    const style: PromptStyle = config.promptStyle === "auto" ? promptStyleForModel(model) : config.promptStyle;
    config.promptStyle = style; // config.json records the style the run used
    const reward = createWeightedReward({
      components:
        options.rewardComponents ??
        DEFAULT_REWARD_COMPONENTS({
          bareSql: style === "tiny",
          weights: config.rewardWeights,
          businessRules: defaultBusinessRules(config.database),
        }),
    });
    const scorer = createRewardScorer(env, reward, gold);
    if (config.adapter !== undefined) await model.setAdapter(config.adapter);
    const policy = await NativePolicy.create(grpoPolicyOptions(config, model.path));
    opened.push(policy);

    const trainItems = options.trainItems ?? (await loadDataset(config.trainSplit));
    if (trainItems.length === 0)
      throw new InputError(`GRPO: the train split '${config.trainSplit}' holds no examples`, {
        hint: "point trainSplit at a non-empty JSONL dataset",
      });
    // The task's prompts for THIS database (its linked tables and values; "tiny": the question alone).
    const task = taskDatabase(executor);
    const taskPrompts = await buildTaskPrompts(task, style, trainItems);
    const built = buildGrpoPrompts(model, trainItems, style, taskPrompts);
    const { prompts, stats: promptStats } = await filterGrpoPrompts(built, gold);
    if (prompts.length === 0)
      throw new InputError(
        `GRPO: none of the ${built.length} prompts of '${config.trainSplit}' is usable (${promptStats.emptyGold} with an empty gold result, ${promptStats.failedGold} whose gold fails)`,
        { hint: "train on prompts whose gold SQL runs and returns rows (gl-rl data augment drops the others)" },
      );
    const byPrompt = new Map<Prompt, GrpoPrompt>(prompts.map((p) => [p.prompt, p]));
    const sampler = createGrpoSampler(
      model,
      GRPO_SAMPLING,
      config.overlapScoring
        ? (prompt, completions) => {
            const source = byPrompt.get(prompt);
            if (source === undefined) return;
            for (const c of completions)
              scorer.prefetch({
                question: source.question,
                completion: c.text,
                sql: extractCandidateSql(c.text),
                ...(source.goldSql === undefined ? {} : { goldSql: source.goldSql }),
              });
          }
        : undefined,
    );

    let evalItems = options.evalItems;
    const session: GrpoSession = {
      config,
      model,
      policy,
      executor,
      env,
      scorer,
      sampler,
      prompts,
      promptStats,
      async evaluate(limit = config.evalLimit) {
        evalItems ??= await loadDataset(config.evalSplit);
        return evaluateModel({
          generator: model,
          items: limit > 0 ? evalItems.slice(0, limit) : evalItems,
          executor,
          promptStyle: style,
          task,
          concurrency: config.sequences || config.groupSize,
          // evaluateModel's own token limit (as `gl-rl eval`): a long query cut at maxCompletionTokens would not count
        });
      },
      trainOptions() {
        return {
          prompts,
          promptStats: { ...promptStats },
          policy,
          sampler,
          extractSql: extractCandidateSql,
          scoreRewards: (candidates) => scorer.scoreRewards(candidates),
          evaluate: async () => {
            const report = await session.evaluate();
            const name = evalMetricPrefix(config.evalSplit);
            return {
              [`${name}_execution_accuracy`]: report.execution_accuracy,
              [`${name}_validity_rate`]: report.validity_rate,
              [`${name}_n`]: report.n,
            };
          },
        };
      },
      async dispose() {
        for (const o of opened.reverse()) await o.dispose();
        opened.length = 0;
      },
    };
    return session;
  } catch (error) {
    for (const o of opened.reverse()) await o.dispose().catch(() => undefined);
    throw error;
  }
}

// ─── run ─────────────────────────────────────────────────────────────────────────────────────────────

export interface RunGrpoOptions extends GrpoSessionOptions {
  /** Progress of the steps (the CLI passes cli/progressBar.ts); absent = silent. */
  progress?: TrainingProgressFactory;
  /** Resume from <outDir>/checkpoint when there is one. Default true. */
  resume?: boolean;
  /** Test hook: stop as if killed after this many steps. */
  stopAfterSteps?: number;
  onStep?: GrpoRunOptions["onStep"];
  /** Told how many prompts the run trains on and why the others were left out, before the first step. */
  onPrompts?: (stats: GrpoPromptStats) => void;
}

/** Writes the resolved config to <outDir>/config.json (temp + rename). */
function writeRunConfig(config: GrpoRunConfig): void {
  mkdirSync(config.outDir, { recursive: true });
  const path = join(config.outDir, "config.json");
  writeFileSync(`${path}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Opens a session, trains (resuming when a checkpoint exists), writes <outDir>/adapter.gguf, closes everything. */
export async function runGrpo(
  partial: Partial<GrpoRunConfig>,
  options: RunGrpoOptions = {},
): Promise<GrpoRunResult & { config: GrpoRunConfig; promptStats: GrpoPromptStats }> {
  const session = await createGrpoSession(partial, options);
  try {
    writeRunConfig(session.config);
    options.onPrompts?.(session.promptStats);
    const result = await trainGrpo({
      ...session.trainOptions(),
      config: session.config,
      ...(options.progress === undefined ? {} : { progress: options.progress }),
      ...(options.resume === undefined ? {} : { resume: options.resume }),
      ...(options.stopAfterSteps === undefined ? {} : { stopAfterSteps: options.stopAfterSteps }),
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    });
    return { ...result, config: session.config, promptStats: session.promptStats };
  } finally {
    await session.dispose();
  }
}
