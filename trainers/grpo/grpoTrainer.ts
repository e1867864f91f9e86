/**
 * The GRPO training loop around `grpoStep` (docs/grpo.md; the step itself is in grpoStep.ts):
 *
 *   for step = resumed … maxSteps − 1, while this run has used less than maxMinutes (when set):
 *     prompts  = the next `promptsPerStep` of a per-epoch permutation fixed by (seed, epoch); with dynamic
 *                sampling, replacements for zero-variance groups come from a permutation fixed by (seed, step)
 *     metrics  = grpoStep(step, prompts)    sample → score → advantages → accumulate → step → save adapter → swap
 *     log      metrics.jsonl (one line per step; `{eval: true, …}` lines every evalEvery steps; a fresh run
 *              starts with a `{step: 0, prompts: …}` line when `promptStats` is given); completions.jsonl (every
 *              sampled completion of step 1 and of every logCompletionsEvery-th step: prompt id, SQL, reward per
 *              component, advantage — docs/grpo.md "Reading the output")
 *     checkpoint every checkpointEvery steps: policy-<step>.ckpt, then state.json {step, policy, adapter} (temp + rename)
 *   final adapter → <outDir>/adapter.gguf (written by the policy, atomically)
 * Resuming loads state.json, the policy checkpoint it names, and swaps the adapter it names into the sampler;
 * both logs drop the lines of steps after the checkpoint (they run again).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { GrpoConfig } from "./grpoConfig.js";
import {
  grpoStep,
  type GrpoCompletionRecord,
  type GrpoPrompt,
  type GrpoStepDependencies,
  type GrpoStepMetrics,
} from "./grpoStep.js";
import type { TrainingProgressFactory } from "../trainingProgress.js";
import { checkpointFiles } from "../checkpointFiles.js";
import { openMetricsLog } from "../metricsLog.js";
import { withDeviceMetrics } from "../policyBackend.js";
import { permutation } from "../sft/sftTrainer.js";

export interface GrpoRunOptions extends Omit<GrpoStepDependencies, "adapterPath" | "recordCompletions"> {
  prompts: readonly GrpoPrompt[];
  /** What happened to the prompts before training (e.g. left out for an empty gold result): logged at step 0. */
  promptStats?: Record<string, number>;
  config: GrpoConfig;
  /** Dev metrics (execution accuracy…) every evalEvery steps and at the end. */
  evaluate?: (step: number) => Promise<Record<string, number>>;
  resume?: boolean;
  /** Progress of the steps (the CLI passes cli/progressBar.ts); absent = silent. */
  progress?: TrainingProgressFactory;
  /** Test hook: stop as if killed after this many steps of this process. */
  stopAfterSteps?: number;
  onStep?: (metrics: GrpoStepMetrics) => void;
}

export interface GrpoRunResult {
  steps: number;
  resumedFrom: number;
  adapterPath: string;
  metricsPath: string;
  completionsPath: string;
  last: GrpoStepMetrics | null;
}

/** Whether step `step` (1-based, as logged) writes its completions: the first and every N-th; N = 0 never. */
export function logsCompletions(step: number, every: number): boolean {
  return every > 0 && (step === 1 || step % every === 0);
}

export async function trainGrpo(options: GrpoRunOptions): Promise<GrpoRunResult> {
  const { config, prompts, policy, sampler } = options;
  const outDir = config.outDir;
  const checkpointDir = join(outDir, "checkpoint");
  const adapterDir = join(outDir, "adapters");
  const metricsPath = join(outDir, "metrics.jsonl");
  const completionsPath = join(outDir, "completions.jsonl");
  const finalAdapter = join(outDir, "adapter.gguf");
  const checkpoints = checkpointFiles<{ adapter: string | null }>(checkpointDir, policy);
  mkdirSync(adapterDir, { recursive: true });

  let step = 0;
  const state = (options.resume ?? true) ? checkpoints.latest() : null;
  if (state !== null) {
    step = state.step;
    await policy.loadCheckpoint(checkpoints.policyPath(state));
    if (state.adapter !== null) await sampler.setAdapter(state.adapter);
  }
  const resumedFrom = step;
  const log = withDeviceMetrics(openMetricsLog(metricsPath, resumedFrom), policy);
  const logCompletion = openMetricsLog(completionsPath, resumedFrom);
  if (resumedFrom === 0 && options.promptStats) log({ step: 0, prompts: options.promptStats });
  let lastAdapter: string | null = null;
  const checkpoint = () => checkpoints.save(step, { adapter: lastAdapter });
  const evaluateNow = async () => {
    if (options.evaluate) log({ step, eval: true, ...(await options.evaluate(step)) });
  };

  const perEpoch = Math.max(1, Math.floor(prompts.length / config.promptsPerStep));
  const bar = options.progress?.("grpo", config.maxSteps, { startAt: step }) ?? null;
  let last: GrpoStepMetrics | null = null;
  let stepsThisRun = 0;
  if (step === 0 && config.evalEvery > 0) await evaluateNow();
  const started = performance.now();
  const outOfTime = () => config.maxMinutes > 0 && performance.now() - started >= config.maxMinutes * 60_000;
  while (step < config.maxSteps && !outOfTime()) {
    const epoch = Math.floor(step / perEpoch);
    const order = permutation(prompts.length, config.seed * 1_000_003 + epoch);
    const at = (step % perEpoch) * config.promptsPerStep;
    const batchIndices = order.slice(at, at + config.promptsPerStep);
    const batch = batchIndices.map((i) => prompts[i]!);
    // Replacements for dynamic sampling: a permutation fixed by (seed, step), the batch left out (resume-safe).
    const reserve =
      config.resampleZeroVarianceRounds === 0
        ? []
        : permutation(prompts.length, config.seed * 1_000_003 + 500_009 * (step + 1))
            .filter((i) => !batchIndices.includes(i))
            .slice(0, config.promptsPerStep * config.resampleZeroVarianceRounds)
            .map((i) => prompts[i]!);
    const logged = step + 1;
    const recordCompletions = logsCompletions(logged, config.logCompletionsEvery)
      ? (records: GrpoCompletionRecord[]) => {
          for (const r of records) logCompletion({ step: logged, ...r });
        }
      : undefined;
    last = await grpoStep(
      step,
      batch,
      {
        ...options,
        adapterPath: (s) => join(adapterDir, `adapter-${s + 1}.gguf`),
        ...(recordCompletions ? { recordCompletions } : {}),
      },
      config,
      reserve,
    );
    lastAdapter = last.adapter;
    step += 1;
    stepsThisRun += 1;
    log({ ...last, step });
    options.onStep?.(last);
    bar?.update(step, `reward ${last.rewardMean.toFixed(3)} kl ${last.klMean.toExponential(1)}`);
    if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < config.maxSteps && !outOfTime())
      await evaluateNow();
    if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0) await checkpoint();
    if (options.stopAfterSteps !== undefined && stepsThisRun >= options.stopAfterSteps) {
      return { steps: step, resumedFrom, adapterPath: lastAdapter ?? finalAdapter, metricsPath, completionsPath, last };
    }
  }
  await evaluateNow();
  await checkpoint();
  await policy.saveWeights(finalAdapter);
  bar?.finish(last ? `reward ${last.rewardMean.toFixed(3)}` : undefined);
  return { steps: step, resumedFrom, adapterPath: finalAdapter, metricsPath, completionsPath, last };
}
