/**
 * `gl-rl ask "<question>" [--model <gguf|hf:…>] [--adapter <gguf>] [--db demo|pglite:<dir>|postgres://…]
 *  [--candidates N] [--evidence "<business definitions>"] [--prompt <style>] [--timeout <ms>]
 *  [--checkpointer memory|postgres://…|pglite:<dir>] [--thread <id>] [--gpu auto|cpu|cuda|vulkan|metal] [--json]` —
 * answers a question with the
 * agents (orchestrator/text2sqlAgent.ts).
 *
 * Without `--model`, the tiny demo model (trainers/demoModel.ts, built and cached on first use; progress
 * on stderr). `--prompt` defaults to the model's style (task/text2sqlPrompt.ts: "tiny" for the tiny model,
 * "schemaAware" otherwise) — pass the style a model was trained with. `--timeout` is the whole ask's time
 * budget (default 60000 ms). `--thread` continues a conversation; with `--checkpointer postgres://…` (or
 * `pglite:<dir>`) the thread lives in that database, so a later process continues it.
 * Output: the SQL, a table of rows, the confidence and the warnings; `--json` prints ONE object
 * `{ "sql", "rows": [{ column: value }], "confidence", "explanation", "warnings" }`, plus
 * `"error": { "stage", "code", "message" }` when a stage failed or the time budget ran out (code "timeout").
 * Exit codes: 0 answered; 1 not answered (sql null: the JSON says why) or a model/database failure; 2
 * unusable input (no question, bad flags, a missing or broken model file) — one line on stderr.
 */
import { cliDemoModel } from "../cliDemoModel.js";
import { InputError, ModelError } from "../../errors.js";
import { parseGpuChoice, type GpuName } from "../../models/llamaRuntime.js";
import { loadModel, type LoadedModel } from "../../models/loadModel.js";
import type { PromptStyle } from "../../models/promptTemplates.js";
import { createText2SqlAgent } from "../../orchestrator/text2sqlAgent.js";
import type { Text2SqlAnswer } from "../../orchestrator/text2sqlState.js";
import { defaultBusinessRules } from "../../sql/businessRules.js";
import { formatQueryResult, toJsonLine } from "../formatQueryResult.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";
import { asInputError, PROMPT_STYLES } from "./evaluate.js";

/** The model: `--model` as given, else the cached (or freshly built) demo model. */
async function resolveModelPath(model: string | undefined): Promise<string> {
  return model ?? cliDemoModel();
}

/** Loads the model; a bad file is unusable input (exit 2) with the model layer's message and hint. */
async function openModel(
  path: string,
  adapter: string | undefined,
  sequences: number,
  gpu: GpuName,
): Promise<LoadedModel> {
  try {
    return await loadModel({ model: path, gpu, sequences, ...(adapter ? { adapter } : {}) });
  } catch (error) {
    if (error instanceof ModelError || error instanceof InputError) {
      throw new InputError(error.message, { hint: error.hint, cause: error });
    }
    throw error;
  }
}

function printAnswer(answer: Text2SqlAnswer): void {
  const out: string[] = [];
  out.push(answer.sql === null ? "-- no SQL: the question could not be answered" : answer.sql);
  out.push("");
  if (answer.sql !== null) {
    const rows = answer.rows.map((r) => answer.columns.map((c) => r[c]));
    out.push(
      `${formatQueryResult(answer.columns, rows)}(${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"})`,
    );
  }
  out.push(`confidence: ${answer.confidence.toFixed(2)}`);
  out.push(answer.explanation);
  if (answer.error) out.push(`error (${answer.error.stage}, ${answer.error.code}): ${answer.error.message}`);
  for (const w of answer.warnings) out.push(`warning: ${w}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      model: { type: "string" },
      adapter: { type: "string" },
      db: { type: "string" },
      candidates: { type: "string" },
      evidence: { type: "string" },
      prompt: { type: "string" },
      timeout: { type: "string" },
      checkpointer: { type: "string" },
      thread: { type: "string" },
      gpu: { type: "string" },
      json: { type: "boolean" },
    },
    "gl-rl ask",
  );
  if (positionals.length !== 1) {
    throw new InputError(
      positionals.length === 0
        ? "gl-rl ask needs a question"
        : `gl-rl ask takes one question, got ${positionals.length} arguments`,
      {
        hint: 'quote it: gl-rl ask "Show all active projects with budget over 100000"',
      },
    );
  }
  const gpu = parseGpuChoice(values.gpu as string | undefined);
  const candidates = parseIntegerFlag(values.candidates as string | undefined, "candidates", 4);
  if (candidates < 1 || candidates > 64) throw new InputError(`--candidates must be from 1 to 64, got ${candidates}`);
  const timeoutMs = parseIntegerFlag(values.timeout as string | undefined, "timeout", 60_000);
  if (timeoutMs < 1) throw new InputError("--timeout must be at least 1 ms", { hint: "e.g. --timeout 60000" });
  const promptStyle = values.prompt as string | undefined;
  if (promptStyle !== undefined && !PROMPT_STYLES.includes(promptStyle as PromptStyle))
    throw new InputError(`gl-rl ask: unknown --prompt '${promptStyle}'`, {
      hint: `use one of: ${PROMPT_STYLES.join(", ")}`,
    });
  const thread = values.thread as string | undefined;
  if (thread !== undefined && thread.trim() === "")
    throw new InputError("--thread needs an id", { hint: "e.g. --thread alice-1" });
  const checkpointer = values.checkpointer as string | undefined;
  const db = await openCliDatabase(values.db as string | undefined);
  let model: LoadedModel | undefined;
  try {
    model = await openModel(
      await resolveModelPath(values.model as string | undefined),
      values.adapter as string | undefined,
      candidates,
      gpu,
    );
    const agent = await createText2SqlAgent({
      model,
      db,
      candidates,
      timeoutMs,
      ...(promptStyle ? { promptStyle: promptStyle as PromptStyle } : {}),
      businessRules: defaultBusinessRules(values.db as string | undefined),
      ...(checkpointer ? { checkpointer } : {}),
    }).catch((error: unknown) => {
      throw asInputError(error); // an unusable checkpointer spec or server is unusable input (exit 2)
    });
    try {
      const evidence = values.evidence as string | undefined;
      const answer = await agent.ask(positionals[0]!, {
        ...(evidence ? { evidence } : {}),
        ...(thread ? { threadId: thread } : {}),
      });
      if (values.json) {
        process.stdout.write(
          toJsonLine({
            sql: answer.sql,
            rows: answer.rows,
            confidence: answer.confidence,
            explanation: answer.explanation,
            warnings: answer.warnings,
            ...(answer.error ? { error: answer.error } : {}),
          }),
        );
      } else {
        printAnswer(answer);
      }
      return answer.sql === null ? 1 : 0;
    } finally {
      await agent.close();
    }
  } finally {
    await model?.dispose();
    await db.close();
  }
}
