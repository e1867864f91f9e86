/**
 * `gl-rl train grpo [--config <file.json>] [--max-steps N] [--max-minutes M] [--out <dir>] [--threads N]
 *  [--turns N] [--gpu auto|cpu|cuda|vulkan|metal] [--rollout-url <url>[,<url>…] --rollout-preset <file>]` — GRPO on
 *  LoRA adapters with the real stack (trainers/grpo/grpoRun.ts).
 *
 * The config file is one JSON object of GrpoRunConfig fields (trainers/grpo/grpoRunConfig.ts: model, adapter, database,
 * trainSplit, evalSplit, evalLimit, promptStyle, loraRank, loraAlpha, threads, samplerThreads, …, and every
 * GrpoConfig field of trainers/grpo/grpoConfig.ts: groupSize, promptsPerStep, beta, lossType, scaleRewards,
 * learningRate, maxSteps, …; the option table is in docs/grpo.md). `model: "demo"` (or no model) means the
 * tiny demo model (cli/cliDemoModel.ts: the shipped SFT-trained tiny GGUF).
 * One set of defaults: a field the file leaves out — or every field, without --config — takes its default
 * from DEFAULT_GRPO_RUN_CONFIG, the same in both cases.
 * Flags override the file: --out → outDir, --max-steps → maxSteps, --max-minutes → maxMinutes (a wall-clock
 * budget: no step starts after it), --threads → threads and samplerThreads, --turns → turns (episodes of up to N
 * turns of ask's correction loop; 1 = single-shot, docs/grpo.md "Multi-turn episodes"), --gpu → gpu (policy and sampler),
 * --rollout-url → rolloutUrls (comma-separated llama-server routers that sample the groups) and --rollout-preset →
 * rolloutPreset (the preset file they were started with; docs/grpo.md "Rollout servers").
 *
 * Writes <out>/config.json, <out>/metrics.jsonl (a line per step; `eval: true` lines with dev execution
 * accuracy every evalEvery steps), <out>/completions.jsonl (the sampled completions of step 1 and every
 * logCompletionsEvery-th step), <out>/checkpoint/ and <out>/adapters/, and at the end <out>/adapter.gguf.
 * Prompts left out (empty or failing gold) are counted on stderr and in metrics.jsonl.
 * A run whose <out>/checkpoint exists resumes from it. Progress bar with ETA on stderr; the summary JSON on
 * stdout. Exit codes: 0 trained; 2 unusable input (bad config, missing model or dataset).
 */
import { cliDemoModel } from "../cliDemoModel.js";
import { createProgressBar } from "../progressBar.js";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import { parseGpuChoice, type GpuName } from "../../models/llamaRuntime.js";
import { runGrpo } from "../../trainers/grpo/grpoRun.js";
import { DEFAULT_GRPO_RUN_CONFIG, type GrpoRunConfig } from "../../trainers/grpo/grpoRunConfig.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

/** Reads the config file (one JSON object) or throws an InputError that says what is wrong. */
function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path))
    throw new InputError(`train grpo: config file not found: ${path}`, {
      hint: "pass a JSON file of GrpoRunConfig fields (trainers/grpo/grpoRunConfig.ts)",
    });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InputError(`train grpo: ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'the config is one JSON object, e.g. {"model": "demo", "maxSteps": 20}',
    });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new InputError(`train grpo: ${path} must hold one JSON object`, {
      hint: 'e.g. {"model": "demo", "maxSteps": 20}',
    });
  return raw as Record<string, unknown>;
}

/**
 * The run config: the file (or nothing), then the flags; `model` "demo"/absent → the demo model
 * (`demoModel`, default ensureDemoModel). Every field left out gets DEFAULT_GRPO_RUN_CONFIG's value in runGrpo.
 */
export async function resolveTrainGrpoConfig(
  configPath: string | undefined,
  flags: {
    out?: string;
    maxSteps?: number;
    maxMinutes?: number;
    threads?: number;
    turns?: number;
    gpu?: GpuName;
    rolloutUrls?: string[];
    rolloutPreset?: string;
  },
  demoModel: () => Promise<string> = cliDemoModel,
): Promise<Partial<GrpoRunConfig>> {
  const config: Partial<GrpoRunConfig> =
    configPath === undefined ? {} : (readConfigFile(configPath) as Partial<GrpoRunConfig>);
  if (flags.out !== undefined) config.outDir = flags.out;
  if (flags.maxSteps !== undefined) config.maxSteps = flags.maxSteps;
  if (flags.maxMinutes !== undefined) config.maxMinutes = flags.maxMinutes;
  if (flags.threads !== undefined) Object.assign(config, { threads: flags.threads, samplerThreads: flags.threads });
  if (flags.turns !== undefined) config.turns = flags.turns;
  if (flags.gpu !== undefined) config.gpu = flags.gpu;
  if (flags.rolloutUrls !== undefined) config.rolloutUrls = flags.rolloutUrls;
  if (flags.rolloutPreset !== undefined) config.rolloutPreset = resolve(flags.rolloutPreset);
  if (config.model === undefined || config.model === "demo") {
    config.model = await demoModel();
  }
  config.outDir = resolve(config.outDir ?? DEFAULT_GRPO_RUN_CONFIG.outDir);
  return config;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: "string" },
      "max-steps": { type: "string" },
      "max-minutes": { type: "string" },
      out: { type: "string" },
      threads: { type: "string" },
      turns: { type: "string" },
      gpu: { type: "string" },
      "rollout-url": { type: "string" },
      "rollout-preset": { type: "string" },
    },
    "gl-rl train grpo",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl train grpo: unexpected argument '${positionals[0]}'`, {
      hint: "gl-rl train grpo [--config <file.json>] [--max-steps N] [--max-minutes M] [--out <dir>] [--turns N] [--rollout-url <url>[,…] --rollout-preset <file>]",
    });
  const maxSteps =
    values["max-steps"] === undefined ? undefined : parseIntegerFlag(values["max-steps"] as string, "max-steps", 0);
  if (maxSteps === 0) throw new InputError("--max-steps must be at least 1");
  const minutesFlag = values["max-minutes"] as string | undefined;
  const maxMinutes = minutesFlag === undefined ? undefined : Number(minutesFlag);
  if (maxMinutes !== undefined && !(Number.isFinite(maxMinutes) && maxMinutes > 0))
    throw new InputError(`--max-minutes must be a positive number, got '${minutesFlag}'`, {
      hint: "e.g. --max-minutes 30",
    });
  const threads = values.threads === undefined ? undefined : parseIntegerFlag(values.threads as string, "threads", 0);
  const turns = values.turns === undefined ? undefined : parseIntegerFlag(values.turns as string, "turns", 0);
  if (turns !== undefined && !(turns >= 1 && turns <= 8))
    throw new InputError(`--turns must be an integer from 1 to 8, got '${values.turns as string}'`, {
      hint: "--turns 1 is single-shot GRPO; --turns 2 trains one correction turn",
    });
  const rolloutUrls =
    values["rollout-url"] === undefined
      ? undefined
      : (values["rollout-url"] as string)
          .split(",")
          .map((u) => u.trim())
          .filter((u) => u.length > 0);
  if (rolloutUrls !== undefined && rolloutUrls.length === 0)
    throw new InputError("--rollout-url needs at least one URL", { hint: "--rollout-url http://127.0.0.1:8080[,…]" });
  const config = await resolveTrainGrpoConfig(values.config as string | undefined, {
    ...(values.out === undefined ? {} : { out: values.out as string }),
    ...(maxSteps === undefined ? {} : { maxSteps }),
    ...(maxMinutes === undefined ? {} : { maxMinutes }),
    ...(threads === undefined ? {} : { threads }),
    ...(turns === undefined ? {} : { turns }),
    ...(values.gpu === undefined ? {} : { gpu: parseGpuChoice(values.gpu as string) }),
    ...(rolloutUrls === undefined ? {} : { rolloutUrls }),
    ...(values["rollout-preset"] === undefined ? {} : { rolloutPreset: values["rollout-preset"] as string }),
  });
  const result = await runGrpo(config, {
    progress: createProgressBar,
    onPrompts: ({ total, used, emptyGold, failedGold }) =>
      process.stderr.write(
        `gl-rl: GRPO trains on ${used} of ${total} prompts (left out: ${emptyGold} with an empty gold result, ${failedGold} whose gold fails)\n`,
      ),
  });
  const summary = {
    steps: result.steps,
    resumedFrom: result.resumedFrom,
    adapter: result.adapterPath,
    metrics: result.metricsPath,
    ...(result.last === null ? {} : { lastRewardMean: result.last.rewardMean, lastKl: result.last.klMean }),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
