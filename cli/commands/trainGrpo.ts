/**
 * `gl-rl train grpo [--config <file.json>] [--max-steps N] [--max-minutes M] [--out <dir>] [--threads N]` — GRPO on LoRA
 * adapters with the real stack (trainers/grpoRun.ts).
 *
 * The config file is one JSON object of GrpoRunConfig fields (trainers/grpoRun.ts: model, adapter, database,
 * trainSplit, evalSplit, evalLimit, promptStyle, loraRank, loraAlpha, topK, topP, threads, samplerThreads,
 * and every GrpoConfig field of trainers/grpoConfig.ts: groupSize, promptsPerStep, beta, learningRate,
 * maxSteps, evalEvery, checkpointEvery, outDir, seed, …). `model: "demo"` (or no model) means the tiny
 * demo model (trainers/demoModel.ts `ensureDemoModel`: the SFT-trained tiny GGUF, built once and cached).
 * Without --config: the demo model on the demo train split with DEMO_GRPO_DEFAULTS.
 * Flags override the file: --out → outDir, --max-steps → maxSteps, --max-minutes → maxMinutes (a wall-clock
 * budget: no step starts after it), --threads → threads and samplerThreads.
 *
 * Writes <out>/config.json, <out>/metrics.jsonl (a line per step; `eval: true` lines with dev execution
 * accuracy every evalEvery steps), <out>/checkpoint/ and <out>/adapters/, and at the end <out>/adapter.gguf.
 * A run whose <out>/checkpoint exists resumes from it. Progress bar with ETA on stderr; the summary JSON on
 * stdout. Exit codes: 0 trained; 2 unusable input (bad config, missing model or dataset).
 */
import { createProgressBar } from "../progressBar.js";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import { ensureDemoModel } from "../../trainers/demoModel.js";
import { runGrpo, type GrpoRunConfig } from "../../trainers/grpoRun.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

/**
 * Defaults of a config-less run on the tiny demo model: 8 completions per prompt at T = 1 (the SFT model
 * is sharp; lower temperatures leave most groups without reward variance), 4 prompts per step, DAPO loss
 * with clip-higher, a LoRA learning rate of 5e-4, dev execution accuracy every 10 steps on 64 dev examples.
 */
export const DEMO_GRPO_DEFAULTS: Readonly<Partial<GrpoRunConfig>> = Object.freeze({
  groupSize: 8,
  promptsPerStep: 4,
  temperature: 1,
  maxCompletionTokens: 96,
  learningRate: 5e-4,
  beta: 0.04,
  lossType: "dapo",
  epsilonHigh: 0.28,
  maxSteps: 60,
  evalEvery: 10,
  evalLimit: 64,
  checkpointEvery: 5,
  outDir: "runs/grpo",
});

/** Reads the config file (one JSON object) or throws an InputError that says what is wrong. */
function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path))
    throw new InputError(`train grpo: config file not found: ${path}`, {
      hint: "pass a JSON file of GrpoRunConfig fields (trainers/grpoRun.ts)",
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

/** The run config: demo defaults (no file), or the file; then the flags; `model` "demo"/absent → the demo model. */
export async function resolveTrainGrpoConfig(
  configPath: string | undefined,
  flags: { out?: string; maxSteps?: number; maxMinutes?: number; threads?: number },
): Promise<Partial<GrpoRunConfig>> {
  const config: Partial<GrpoRunConfig> =
    configPath === undefined ? { ...DEMO_GRPO_DEFAULTS } : (readConfigFile(configPath) as Partial<GrpoRunConfig>);
  if (flags.out !== undefined) config.outDir = flags.out;
  if (flags.maxSteps !== undefined) config.maxSteps = flags.maxSteps;
  if (flags.maxMinutes !== undefined) config.maxMinutes = flags.maxMinutes;
  if (flags.threads !== undefined) Object.assign(config, { threads: flags.threads, samplerThreads: flags.threads });
  if (config.model === undefined || config.model === "demo") {
    process.stderr.write("gl-rl: using the tiny demo model (built and cached on first use, ≈ 7–10 min on 2 cores)\n");
    config.model = await ensureDemoModel({ progress: createProgressBar });
  }
  config.outDir = resolve(config.outDir ?? "runs/grpo");
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
    },
    "gl-rl train grpo",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl train grpo: unexpected argument '${positionals[0]}'`, {
      hint: "gl-rl train grpo [--config <file.json>] [--max-steps N] [--max-minutes M] [--out <dir>]",
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
  const config = await resolveTrainGrpoConfig(values.config as string | undefined, {
    ...(values.out === undefined ? {} : { out: values.out as string }),
    ...(maxSteps === undefined ? {} : { maxSteps }),
    ...(maxMinutes === undefined ? {} : { maxMinutes }),
    ...(threads === undefined ? {} : { threads }),
  });
  const result = await runGrpo(config, { progress: createProgressBar });
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
