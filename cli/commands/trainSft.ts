/**
 * `gl-rl train sft [--config <file.json>] [--out <dir>] [--max-steps N] [--threads N] [--gpu auto|cpu|cuda|vulkan|metal]`
 * — supervised
 * fine-tuning with the native gradient extension (trainers/sft/sftTrainer.ts).
 *
 * The config file is one JSON object: every SftConfig field (trainers/sft/sftConfig.ts: dataset, devDataset,
 * promptStyle, epochs, batchSize, gradientAccumulation, learningRate, warmupSteps, evalEvery,
 * checkpointEvery, maxSteps, outDir, seed, …) plus
 *   model       a qwen2/qwen3 GGUF path, or "tiny" (a fresh tiny model, seed 0, written to <out>/base.gguf); default "tiny"
 *   trainable   "lora" | "all"; default "all" for "tiny", "lora" otherwise
 *   lora        { rank, alpha, targets, dropout, seed } (NativePolicy's); default by model size: r 64, alpha 128, dropout 0.1 (real Qwen), r 8, alpha 16 (tiny)
 *   evalLimit   dev examples whose execution accuracy is measured at each evaluation (0 = none); default 32
 *   db          the database the questions are about (--db spec): the prompts are built from it (its tables and
 *               values, task/text2sqlPrompt.ts — what `ask` sends) and the execution check runs on it; default "demo"
 *   promptStyle default by model: "tiny" for the tiny model, "schemaAware" for real Qwen models
 * Flags override the file: --out → outDir, --max-steps → maxSteps.
 *
 * Writes <out>/metrics.jsonl (one line per step, one per evaluation with devLoss and
 * dev_execution_accuracy), <out>/checkpoint/ (weights + AdamW moments + step; the data order is a
 * function of (seed, epoch, position), so it needs no more state), and at the end <out>/adapter.gguf
 * (LoRA) or <out>/model.gguf (all weights), each written temp + rename. A run whose <out>/checkpoint
 * exists resumes from it (after a kill it continues exactly). Progress bar with ETA on stderr; the
 * summary JSON on stdout. Exit codes: 0 trained; 2 unusable input (bad config, missing model or dataset).
 */
import { createProgressBar } from "../progressBar.js";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../../errors.js";
import { loadDataset } from "../../data/loadDataset.js";
import { parseGpuChoice, type GpuName } from "../../models/llamaRuntime.js";
import { loadModel, type LoadedModel } from "../../models/loadModel.js";
import { writeTinyModel } from "../../models/writeTinyModel.js";
import type { PromptStyle } from "../../models/promptTemplates.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { taskDatabase, type TaskDatabase } from "../../task/taskDatabase.js";
import { buildTaskPrompts, promptStyleForModel } from "../../task/text2sqlPrompt.js";
import { evaluateModel } from "../../trainers/eval/evaluateModel.js";
import { NativePolicy, type NativePolicyOptions } from "../../trainers/nativePolicy.js";
import { resolveSftConfig, type SftConfig } from "../../trainers/sft/sftConfig.js";
import { sftExamples } from "../../trainers/sft/sftExamples.js";
import { trainSft } from "../../trainers/sft/sftTrainer.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";
import { asInputError } from "./evaluate.js";

/** The command's config: SftConfig plus the model, what is trained and the dev execution check. */
export interface TrainSftCommandConfig {
  sft: SftConfig;
  /** A GGUF path or "tiny". */
  model: string;
  trainable: "lora" | "all";
  lora: NonNullable<NativePolicyOptions["lora"]>;
  evalLimit: number;
  db: string;
  /** The config named a promptStyle (else it is chosen by model once the base model is loaded). */
  promptStyleGiven: boolean;
}

const COMMAND_KEYS = ["model", "trainable", "lora", "evalLimit", "db"] as const;

/** Splits and checks a config object (from the file) with the flags applied. */
export function resolveTrainSftConfig(
  raw: Record<string, unknown>,
  flags: { out?: string; maxSteps?: number } = {},
): TrainSftCommandConfig {
  const sftPart: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw))
    if (!(COMMAND_KEYS as readonly string[]).includes(key)) sftPart[key] = value;
  if (flags.out !== undefined) sftPart.outDir = flags.out;
  if (flags.maxSteps !== undefined) sftPart.maxSteps = flags.maxSteps;
  const sft = resolveSftConfig(sftPart as Partial<SftConfig>);
  const model = raw.model ?? "tiny";
  if (typeof model !== "string" || model === "")
    throw new InputError(`train sft config: model must be a GGUF path or "tiny", got ${JSON.stringify(model)}`);
  const trainable = raw.trainable ?? (model === "tiny" ? "all" : "lora");
  if (trainable !== "lora" && trainable !== "all")
    throw new InputError(`train sft config: trainable must be "lora" or "all", got ${JSON.stringify(trainable)}`);
  const lora = (raw.lora ?? {}) as TrainSftCommandConfig["lora"];
  if (typeof lora !== "object" || lora === null || Array.isArray(lora))
    throw new InputError("train sft config: lora must be an object { rank, alpha, targets, dropout, seed }");
  const evalLimit = raw.evalLimit ?? 32;
  if (!Number.isInteger(evalLimit) || (evalLimit as number) < 0)
    throw new InputError(`train sft config: evalLimit must be an integer ≥ 0, got ${JSON.stringify(evalLimit)}`);
  const db = raw.db ?? "demo";
  if (typeof db !== "string")
    throw new InputError(`train sft config: db must be a --db spec string, got ${JSON.stringify(db)}`);
  return {
    sft: { ...sft, outDir: resolve(sft.outDir) },
    model,
    trainable,
    lora,
    evalLimit: evalLimit as number,
    db,
    promptStyleGiven: raw.promptStyle !== undefined,
  };
}

function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (path === undefined) return {};
  if (!existsSync(path))
    throw new InputError(`train sft: config file not found: ${path}`, {
      hint: "pass a JSON file of SftConfig fields (see gl-rl --help)",
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InputError(
      `train sft: ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InputError(`train sft: ${path} must hold one JSON object`);
  return parsed as Record<string, unknown>;
}

/** The base model path: the given GGUF, or the tiny model written (once, deterministically) into the run folder. */
async function baseModel(config: TrainSftCommandConfig): Promise<string> {
  if (config.model !== "tiny") {
    if (!existsSync(config.model))
      throw new InputError(`train sft: model not found: ${config.model}`, { hint: 'pass a GGUF path or "tiny"' });
    return config.model;
  }
  const path = join(config.sft.outDir, "base.gguf");
  if (!existsSync(path)) await writeTinyModel({ out: path, seed: 0 });
  return path;
}

/**
 * The dev execution check of trainSft's `evaluate` hook: the current weights saved, loaded into
 * node-llama-cpp (LoRA: the adapter swapped into the loaded base), evaluated on the first evalLimit
 * dev items.
 */
function devExecutionCheck(
  policy: NativePolicy,
  base: LoadedModel,
  config: TrainSftCommandConfig,
  db: SqlExecutor,
  task: TaskDatabase,
  dev: Awaited<ReturnType<typeof loadDataset>>,
  threads: number | undefined,
  gpu: GpuName,
) {
  const weights = join(config.sft.outDir, config.trainable === "lora" ? "eval-adapter.gguf" : "eval-model.gguf");
  return async (): Promise<Record<string, number>> => {
    await policy.saveWeights(weights);
    const model =
      config.trainable === "lora"
        ? base
        : await loadModel({ model: weights, gpu, sequences: 8, ...(threads ? { threads } : {}) });
    try {
      if (config.trainable === "lora") await base.setAdapter(weights);
      const report = await evaluateModel({
        generator: model,
        items: dev.slice(0, config.evalLimit),
        executor: db,
        task,
        promptStyle: config.sft.promptStyle,
      });
      return {
        dev_execution_accuracy: report.execution_accuracy,
        dev_validity_rate: report.validity_rate,
        dev_n: report.n,
      };
    } finally {
      if (model !== base) await model.dispose();
      rmSync(weights, { force: true });
    }
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: "string" },
      out: { type: "string" },
      "max-steps": { type: "string" },
      threads: { type: "string" },
      gpu: { type: "string" },
    },
    "gl-rl train sft",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl train sft takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: "gl-rl train sft --config sft.json --out runs/sft",
    });
  const maxSteps =
    values["max-steps"] === undefined ? undefined : parseIntegerFlag(values["max-steps"] as string, "max-steps", 0);
  const config = resolveTrainSftConfig(readConfigFile(values.config as string | undefined), {
    out: values.out as string | undefined,
    maxSteps,
  });
  const threads = parseIntegerFlag(values.threads as string | undefined, "threads", 0) || undefined;
  const gpu = parseGpuChoice(values.gpu as string | undefined);

  const [trainItems, devItems] = await Promise.all([
    loadDataset(config.sft.dataset),
    loadDataset(config.sft.devDataset),
  ]);
  mkdirSync(config.sft.outDir, { recursive: true });
  const basePath = await baseModel(config);
  const base = await loadModel({ model: basePath, gpu, sequences: 8, ...(threads ? { threads } : {}) }).catch(
    (error: unknown) => {
      throw asInputError(error);
    },
  );
  // The style the model is trained in is the style `ask` will ask it in.
  const style: PromptStyle = config.promptStyleGiven ? config.sft.promptStyle : promptStyleForModel(base);
  config.sft.promptStyle = style;
  const db = config.evalLimit > 0 || style !== "tiny" ? await openCliDatabase(config.db) : undefined;
  let policy: NativePolicy | undefined;
  try {
    const task = db ? taskDatabase(db) : null;
    const examplesOf = async (items: typeof trainItems) =>
      sftExamples(base, items, {
        style,
        ...(style === "tiny" ? {} : { prompts: await buildTaskPrompts(task, style, items) }),
      });
    const train = await examplesOf(trainItems);
    const dev = await examplesOf(devItems);
    policy = await NativePolicy.create({
      modelPath: basePath,
      trainable: config.trainable,
      lora: config.lora,
      gpu,
      ...(threads ? { threads } : {}),
    }).catch((error: unknown) => {
      throw asInputError(error);
    });
    const result = await trainSft({
      policy,
      train,
      dev,
      config: config.sft,
      progress: createProgressBar,
      ...(db && task && config.evalLimit > 0
        ? { evaluate: devExecutionCheck(policy, base, config, db, task, devItems, threads, gpu) }
        : {}),
    });
    const finalPath = join(config.sft.outDir, config.trainable === "lora" ? "adapter.gguf" : "model.gguf");
    await policy.saveWeights(`${finalPath}.tmp.gguf`);
    renameSync(`${finalPath}.tmp.gguf`, finalPath);
    process.stdout.write(
      `${JSON.stringify({ ...result, output: finalPath, trainable: config.trainable, base: basePath })}\n`,
    );
    return 0;
  } finally {
    await policy?.dispose();
    await db?.close();
    await base.dispose();
  }
}
