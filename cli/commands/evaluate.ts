/**
 * `gl-rl eval [--model <gguf|hf:…|openai:<url>>] [--adapter <gguf>] [--db …] --split dev|test|test_unseen|<file.jsonl>
 *  [--limit N] [--prompt tiny|zeroShot|fewShot|reasoningFirst|schemaAware] [--threads N] [--max-tokens N] [--results <file.jsonl>]
 *  [--gpu auto|cpu|cuda|vulkan|metal] [--suite K] [--pipeline] [--json]` — execution accuracy of
 * a model on a split (trainers/eval/evaluateModel.ts): greedy decoding, SQL extracted, validated, executed
 * sandboxed and compared with the gold result.
 *
 * With no --model the tiny demo model is used (cli/cliDemoModel.ts: the shipped file).
 * The prompts are the task's (task/text2sqlPrompt.ts: what `ask` sends), built from the --db database; the
 * style defaults by model: "tiny" for the tiny model (the demo model and any model `gl-rl model tiny` wrote),
 * "schemaAware" otherwise.
 * Output: a summary, or with --json ONE object `{ execution_accuracy, test_suite_execution_accuracy, n,
 * by_difficulty, validity_rate, mean_latency_ms, mean_reward, model, adapter, split, prompt_style }`:
 * test_suite_execution_accuracy is the match on the database AND on K seeded variants of it (--suite K, default 3;
 * 0 → null; docs/execution-match.md "Test suite"); --pipeline adds
 * `pipeline_execution_accuracy`: every question asked through the full `ask` pipeline (N candidates, vote,
 * correction; orchestrator/pipelineAccuracy.ts) and its answer matched against the gold result. --results writes one JSON line per
 * example (question, prompt — rendered, as the model saw it —, sql, gold, match, valid, latencyMs, reward)
 * for error analysis, atomically. Exit codes: 0 the evaluation ran;
 * 2 unusable input (missing or broken model / adapter, unknown split, bad flags).
 */
import { cliDemoModel } from "../cliDemoModel.js";
import { defaultBusinessRules } from "../../sql/businessRules.js";
import { rename, writeFile } from "node:fs/promises";
import { InputError, isGlRlError } from "../../errors.js";
import { loadDataset } from "../../data/loadDataset.js";
import { parseGpuChoice, type GpuName } from "../../models/llamaRuntime.js";
import { openTextGenerator, type OpenedTextGenerator } from "../../models/openTextGenerator.js";
import type { PromptStyle } from "../../models/promptTemplates.js";
import { promptStyleForModel } from "../../task/text2sqlPrompt.js";
import { pipelineAccuracy } from "../../orchestrator/pipelineAccuracy.js";
import { DEFAULT_SUITE_SIZE } from "../../sql/databaseVariants.js";
import { evaluateModel } from "../../trainers/eval/evaluateModel.js";
import { createProgressBar } from "../progressBar.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

export const PROMPT_STYLES: readonly PromptStyle[] = ["tiny", "zeroShot", "fewShot", "reasoningFirst", "schemaAware"];

/** A model or adapter that cannot be loaded is unusable input (exit 2), with its message and hint. */
export function asInputError(error: unknown): unknown {
  if (!isGlRlError(error) || error instanceof InputError) return error;
  return new InputError(error.message, { hint: error.hint, cause: error, context: error.context });
}

async function openModel(
  model: string,
  adapter: string | undefined,
  threads: number,
  gpu: GpuName = "auto",
): Promise<OpenedTextGenerator> {
  try {
    return await openTextGenerator({
      model,
      gpu,
      sequences: 8,
      ...(adapter ? { adapter } : {}),
      ...(threads > 0 ? { threads } : {}),
    });
  } catch (error) {
    throw asInputError(error);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      model: { type: "string" },
      adapter: { type: "string" },
      db: { type: "string" },
      split: { type: "string" },
      limit: { type: "string" },
      prompt: { type: "string" },
      threads: { type: "string" },
      "max-tokens": { type: "string" },
      results: { type: "string" },
      gpu: { type: "string" },
      json: { type: "boolean" },
      pipeline: { type: "boolean" },
      suite: { type: "string" },
    },
    "gl-rl eval",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl eval takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: "gl-rl eval --split dev [--model file.gguf]",
    });
  const split = values.split as string | undefined;
  if (!split)
    throw new InputError("gl-rl eval: --split is required", {
      hint: "pass --split dev, test, test_unseen or a .jsonl file",
    });
  const prompt = values.prompt as string | undefined;
  if (prompt !== undefined && !PROMPT_STYLES.includes(prompt as PromptStyle)) {
    throw new InputError(`gl-rl eval: unknown --prompt '${prompt}'`, {
      hint: `use one of: ${PROMPT_STYLES.join(", ")}`,
    });
  }
  const limit = parseIntegerFlag(values.limit as string | undefined, "limit", 0);
  const suite = parseIntegerFlag(values.suite as string | undefined, "suite", DEFAULT_SUITE_SIZE);
  const gpu = parseGpuChoice(values.gpu as string | undefined);
  const items = (await loadDataset(split)).slice(0, limit > 0 ? limit : undefined);

  const modelPath = (values.model as string | undefined) ?? (await cliDemoModel());
  const adapter = values.adapter as string | undefined;
  const model = await openModel(
    modelPath,
    adapter,
    parseIntegerFlag(values.threads as string | undefined, "threads", 0),
    gpu,
  );
  const style = (prompt as PromptStyle | undefined) ?? promptStyleForModel(model);
  try {
    const db = await openCliDatabase(values.db as string | undefined);
    try {
      const bar = createProgressBar("eval", items.length);
      const report = await evaluateModel({
        generator: model,
        items,
        executor: db,
        promptStyle: style,
        businessRules: defaultBusinessRules(values.db as string | undefined),
        maxTokens: parseIntegerFlag(values["max-tokens"] as string | undefined, "max-tokens", 256) || 256,
        suite,
        onProgress: (done) => {
          if (done < items.length) bar.update(done);
        },
      });
      bar.finish();
      const { results, ...summary } = report;
      const resultsFile = values.results as string | undefined;
      if (resultsFile) {
        const temp = `${resultsFile}.tmp-${process.pid}`;
        await writeFile(temp, `${results.map((r) => JSON.stringify(r)).join("\n")}\n`);
        await rename(temp, resultsFile);
      }
      // --pipeline: the full ask pipeline (vote + correction, orchestrator/pipelineAccuracy.ts) beside single-shot EX.
      const pipeline = values.pipeline
        ? await pipelineAccuracy({
            generator: model,
            items,
            executor: db,
            promptStyle: style,
            businessRules: defaultBusinessRules(values.db as string | undefined),
          })
        : null;
      const out = {
        ...summary,
        ...(pipeline === null ? {} : { pipeline_execution_accuracy: pipeline.pipeline_execution_accuracy }),
        model: modelPath,
        adapter: adapter ?? null,
        split,
        prompt_style: style,
      };
      if (values.json) {
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
        const lines = [
          `model ${modelPath}${adapter ? ` + adapter ${adapter}` : ""} (prompt ${style}), split ${split}, n = ${report.n}`,
          `execution accuracy ${pct(report.execution_accuracy)}${report.test_suite_execution_accuracy === null ? "" : `, test-suite execution accuracy ${pct(report.test_suite_execution_accuracy)} (${suite} variants)`}, validity ${pct(report.validity_rate)}, mean latency ${report.mean_latency_ms.toFixed(0)} ms${report.mean_reward === null ? "" : `, mean reward ${report.mean_reward.toFixed(3)}`}`,
          ...(pipeline === null
            ? []
            : [
                `pipeline execution accuracy ${pct(pipeline.pipeline_execution_accuracy)} (ask: vote + correction; answered ${pct(pipeline.pipeline_answered_rate)}, corrected ${pct(pipeline.pipeline_corrected_rate)})`,
              ]),
          ...Object.entries(report.by_difficulty).map(
            ([d, e]) => `  ${d.padEnd(12)} ${pct(e.execution_accuracy)} of ${e.n}`,
          ),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      return 0;
    } finally {
      await db.close();
    }
  } finally {
    await model.dispose();
  }
}
