/**
 * GRPO on the real stack, from one config (grpoRunConfig.ts; the loop is grpoTrainer.ts, one step grpoStep.ts):
 *
 *   1. open the database (sql/openDatabase.ts spec) and read its schema → the reward environment
 *      (rewards/sqlRewardEnvironment.ts), a gold-result cache and the weighted reward
 *      (DEFAULT_REWARD_COMPONENTS, bare SQL for the "tiny" style; the database's business rules)
 *   2. load the train split and build prompts; prompt tokens = the model's tokenizer on the rendered prompt
 *      with special tokens — exactly what LoadedModel.generateCandidates feeds the sampler; prompts whose gold
 *      result is empty (it would reward every empty result of its width) or whose gold fails are left out and
 *      counted (filterGrpoPrompts.ts; logged at step 0 of metrics.jsonl)
 *   3. the sampler: LoadedModel on the base GGUF, f32 KV cache (its log-probs match the trainer's forward),
 *      `sequences` = groupSize, sampling exactly softmax(logits / T) (`fullDistribution`: no top-k/top-p/min-p,
 *      no sort of the vocabulary) without re-scoring completions (`scoreLogprobs: false`: the policy computes
 *      the log-probs); starts on the SFT adapter when one is given. With `rolloutUrls` the llama-server routers of
 *      trainers/rollouts/ sample instead (and serve the evaluation); only the GGUF's vocabulary is loaded here, and their
 *      log-probs feed the loss's importance-sampling correction (docs/grpo.md "Rollout servers")
 *   4. the policy: NativePolicy on the SAME base GGUF, LoRA, dropout 0 (the gradient must come from the
 *      function the ratio uses); a fresh adapter takes loraRank/loraAlpha, a starting adapter (initPath) keeps
 *      its own rank, alpha and targets; the KL reference is the policy as it starts (grpoRunConfig.ts `grpoPolicyOptions`)
 *   5. scoring overlaps generation (grpoRewardScorer.ts): as soon as one prompt's group is sampled, its
 *      candidates are extracted, validated and executed while other groups still decode
 *   6. trainGrpo: steps, metrics.jsonl (per step: reward mean/std per component, KL, clip fraction, loss,
 *      grad norm, completion length, zero-variance groups, tokens/s, timings; dev EX every evalEvery steps),
 *      checkpoints (LoRA + AdamW moments + step; sampling seeds and dropout masks are functions of
 *      (seed, step), so the step is the whole RNG state), resume after a kill, final <outDir>/adapter.gguf
 *
 * @example
 * const result = await runGrpo({ model: "demo.gguf", maxSteps: 20, outDir: "runs/grpo" });
 * console.log(result.adapterPath, result.last?.rewardMean);
 */
import { defaultBusinessRules } from "../../sql/businessRules.js";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { loadDataset, type DatasetItem } from "../../data/loadDataset.js";
import { InputError } from "../../errors.js";
import { loadModel, loadTokenizer, type LoadedModel } from "../../models/loadModel.js";
import { trainingTokens, type PromptStyle, type PromptTokenizer } from "../../models/promptTemplates.js";
import type { CandidateOptions, Completion, GenerationParams, Prompt } from "../../models/textGenerator.js";
import { createGoldResultCache, type RewardEnvironment } from "../../rewards/prepareRewardSamples.js";
import { createWeightedReward, DEFAULT_REWARD_COMPONENTS, type RewardComponent } from "../../rewards/weightedReward.js";
import { openDatabase } from "../../sql/openDatabase.js";
import { executeOutcome, type SqlExecutor } from "../../sql/sqlExecutor.js";
import { validateSql } from "../../sql/validateSql.js";
import { turnPrompt, type TurnTools } from "../../task/correctionLoop.js";
import { taskDatabase, type TaskDatabase } from "../../task/taskDatabase.js";
import {
  buildTaskPrompts,
  linkQuestion,
  promptStyleForModel,
  taskPrompt,
  type TaskContext,
  type TaskFailure,
} from "../../task/text2sqlPrompt.js";
import type { EvaluationReport } from "../eval/evaluate.js";
import { evaluateModel } from "../eval/evaluateModel.js";
import type { GrpoPrompt, GrpoSampler } from "./grpoStep.js";
import { trainGrpo, type GrpoRunOptions, type GrpoRunResult } from "./grpoTrainer.js";
import { filterGrpoPrompts, type GrpoPromptStats } from "./filterGrpoPrompts.js";
import { NativePolicy } from "../nativePolicy.js";
import type { TrainingProgressFactory } from "../trainingProgress.js";
import { createRewardScorer, extractCandidateSql, type RewardScorer } from "./grpoRewardScorer.js";
import { grpoPolicyOptions, resolveGrpoRunConfig, type GrpoRunConfig } from "./grpoRunConfig.js";
import { createSqlRewardEnvironment } from "../../rewards/sqlRewardEnvironment.js";
import { openRolloutServers, RolloutServers } from "../rollouts/rolloutServers.js";

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
  /** Multi-turn: each item's task context (chat styles; undefined for "tiny"), from which its correction prompts are built. */
  contexts?: readonly (TaskContext | undefined)[],
): GrpoPrompt[] {
  const tokens = (prompt: Prompt) => trainingTokens(tokenizer, prompt, "").promptTokens;
  return items.map((item, i) => {
    const prompt = prompts?.[i] ?? taskPrompt(style, item);
    return {
      id: item.id,
      question: item.question,
      goldSql: item.sql,
      prompt,
      promptTokens: tokens(prompt),
      ...(contexts === undefined
        ? {}
        : {
            // The correction prompt `ask` sends after this failure (task/correctionLoop.ts).
            correct: (failure: TaskFailure) => {
              const next = turnPrompt(style, item, contexts[i], failure);
              return { prompt: next, promptTokens: tokens(next) };
            },
          }),
    };
  });
}

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
  model: Pick<LoadedModel, "generateCandidates" | "setAdapter"> | RolloutServers,
  params: Partial<GenerationParams> & CandidateOptions,
  onGroup?: (prompt: Prompt, completions: readonly Completion[]) => void,
): GrpoSampler {
  return {
    ...(model instanceof RolloutServers ? { samplingLogprobs: true } : {}),
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
 * The feedback of an episode's turn, as `ask` gets it: sql/validateSql with the database's business rules
 * (`defaultBusinessRules`, as the agent's default), then the sandboxed execution with ask's limits (5 s, 1,000 rows).
 */
export function episodeTurnTools(task: TaskDatabase, executor: SqlExecutor, database: string): TurnTools {
  const businessRules = defaultBusinessRules(database);
  return {
    validate: async (sql) => validateSql(sql, { schema: await task.schema(), executor, businessRules }),
    execute: (sql) => executeOutcome(executor, sql, { timeoutMs: 5000, maxRows: 1000 }),
  };
}

// ─── session ─────────────────────────────────────────────────────────────────────────────────────────

/** Everything a GRPO run holds open; `dispose()` releases what the session opened itself. */
export interface GrpoSession {
  config: GrpoRunConfig;
  /** The in-process sampler (absent with rollout servers). */
  model?: LoadedModel;
  policy: NativePolicy;
  executor: SqlExecutor;
  env: RewardEnvironment;
  scorer: RewardScorer;
  sampler: GrpoSampler;
  /** The rollout servers when config.rolloutUrls names some (they then sample and serve the evaluation). */
  rollouts?: RolloutServers;
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
    const env = await createSqlRewardEnvironment(executor, undefined, { suite: config.testSuite });
    const gold = createGoldResultCache(env);

    // With rollout servers the trainer samples nothing: the base GGUF's vocabulary alone tokenizes the prompts.
    const model =
      config.rolloutUrls.length > 0
        ? undefined
        : await loadModel({
            model: config.model,
            gpu: config.gpu,
            kvCacheF32: true,
            sequences: config.sequences || config.groupSize,
            download: false,
            ...(config.samplerThreads > 0 ? { threads: config.samplerThreads } : {}),
          });
    const tokenizer = model ?? (await loadTokenizer({ model: config.model, gpu: config.gpu, download: false }));
    opened.push(tokenizer);
    const style: PromptStyle = config.promptStyle === "auto" ? promptStyleForModel(tokenizer) : config.promptStyle;
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
    const rollouts = model
      ? undefined
      : await openRolloutServers({
          urls: config.rolloutUrls,
          presetPath: config.rolloutPreset,
          baseModel: tokenizer.path,
        });
    if (rollouts) await rollouts.setAdapter(config.adapter ?? null);
    else if (config.adapter !== undefined) await model!.setAdapter(config.adapter);
    const policy = await NativePolicy.create(grpoPolicyOptions(config, tokenizer.path));
    opened.push(policy);

    const trainItems = options.trainItems ?? (await loadDataset(config.trainSplit));
    if (trainItems.length === 0)
      throw new InputError(`GRPO: the train split '${config.trainSplit}' holds no examples`, {
        hint: "point trainSplit at a non-empty JSONL dataset",
      });
    // The task's prompts for THIS database (its linked tables and values; "tiny": the question alone).
    const task = taskDatabase(executor);
    let built: GrpoPrompt[];
    if (config.turns === 1)
      built = buildGrpoPrompts(tokenizer, trainItems, style, await buildTaskPrompts(task, style, trainItems));
    else {
      // Multi-turn: each question's context is kept for its correction prompts (the same linking as buildTaskPrompts).
      const contexts: (TaskContext | undefined)[] = [];
      for (const item of trainItems)
        contexts.push(style === "tiny" ? undefined : await linkQuestion(task, item.question));
      const firstPrompts = trainItems.map((item, i) => turnPrompt(style, item, contexts[i], null));
      built = buildGrpoPrompts(tokenizer, trainItems, style, firstPrompts, contexts);
    }
    const { prompts, stats: promptStats } = await filterGrpoPrompts(built, gold);
    if (prompts.length === 0)
      throw new InputError(
        `GRPO: none of the ${built.length} prompts of '${config.trainSplit}' is usable (${promptStats.emptyGold} with an empty gold result, ${promptStats.failedGold} whose gold fails)`,
        { hint: "train on prompts whose gold SQL runs and returns rows (gl-rl data augment drops the others)" },
      );
    const byPrompt = new Map<Prompt, GrpoPrompt>(prompts.map((p) => [p.prompt, p]));
    const sampler = createGrpoSampler(
      rollouts ?? model!,
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
      ...(model ? { model } : {}),
      policy,
      executor,
      env,
      scorer,
      sampler,
      ...(rollouts ? { rollouts } : {}),
      prompts,
      promptStats,
      async evaluate(limit = config.evalLimit) {
        evalItems ??= await loadDataset(config.evalSplit);
        return evaluateModel({
          generator: rollouts?.generator() ?? model!,
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
          ...(config.turns > 1 ? { turnTools: episodeTurnTools(task, executor, config.database) } : {}),
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
