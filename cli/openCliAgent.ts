/**
 * The agent a command asks with, opened from the ask flags — one place for `gl-rl ask` and `gl-rl mcp`, so
 * both read `--model`, `--adapter`, `--db`, `--candidates`, `--prompt`, `--timeout`, `--checkpointer` and
 * `--gpu` the same way:
 * 1. the flags are checked first (unusable input: exit 2, before anything is loaded);
 * 2. the database is opened (openCliDatabase: an unreachable one is unusable input), then the model
 *    (`--model` as given, else the demo model; a bad file is unusable input with the model layer's hint),
 *    then the agent (an unusable checkpointer spec or server is unusable input);
 * 3. whatever was opened is closed again when a later step fails; `close()` closes all three.
 *
 * @example
 * const { values } = parseCommandArgs(argv, { ...AGENT_FLAGS, json: { type: "boolean" } }, "gl-rl ask");
 * const opened = await openCliAgent(values, "gl-rl ask");
 * try { await opened.agent.ask("How many projects?"); } finally { await opened.close(); }
 */
import { InputError, ModelError } from "../errors.js";
import { parseGpuChoice } from "../models/llamaRuntime.js";
import { openTextGenerator, type OpenedTextGenerator } from "../models/openTextGenerator.js";
import type { PromptStyle } from "../models/promptTemplates.js";
import { createText2SqlAgent, type Text2SqlAgent } from "../orchestrator/text2sqlAgent.js";
import { defaultBusinessRules } from "../sql/businessRules.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { cliDemoModel } from "./cliDemoModel.js";
import { asInputError, PROMPT_STYLES } from "./commands/evaluate.js";
import { openCliDatabase } from "./openCliDatabase.js";
import type { OptionSpec, ParsedCommandArgs } from "./parseCommandArgs.js";
import { parseIntegerFlag } from "./parseCommandArgs.js";

/** The flags that open the agent (parseCommandArgs options). */
export const AGENT_FLAGS = {
  model: { type: "string" },
  adapter: { type: "string" },
  db: { type: "string" },
  candidates: { type: "string" },
  prompt: { type: "string" },
  timeout: { type: "string" },
  checkpointer: { type: "string" },
  gpu: { type: "string" },
} as const satisfies OptionSpec;

export interface CliAgent {
  agent: Text2SqlAgent;
  /** The database the agent asks (also for the commands' own SQL tools). */
  db: SqlExecutor;
  /** `--db` as given (undefined: the demo database). */
  dbSpec: string | undefined;
  close(): Promise<void>;
}

/** Loads the model; a bad file is unusable input (exit 2) with the model layer's message and hint. */
async function openModel(
  path: string,
  adapter: string | undefined,
  sequences: number,
  gpu: ReturnType<typeof parseGpuChoice>,
  timeoutMs: number,
): Promise<OpenedTextGenerator> {
  try {
    // A path, an hf: URI or openai:<base URL> (a model on a server: --timeout limits each request).
    return await openTextGenerator({ model: path, gpu, sequences, timeoutMs, ...(adapter ? { adapter } : {}) });
  } catch (error) {
    if (error instanceof ModelError || error instanceof InputError) {
      throw new InputError(error.message, { hint: error.hint, cause: error });
    }
    throw error;
  }
}

export async function openCliAgent(values: ParsedCommandArgs["values"], command: string): Promise<CliAgent> {
  const gpu = parseGpuChoice(values.gpu as string | undefined);
  const candidates = parseIntegerFlag(values.candidates as string | undefined, "candidates", 4);
  if (candidates < 1 || candidates > 64) throw new InputError(`--candidates must be from 1 to 64, got ${candidates}`);
  const timeoutMs = parseIntegerFlag(values.timeout as string | undefined, "timeout", 60_000);
  if (timeoutMs < 1) throw new InputError("--timeout must be at least 1 ms", { hint: "e.g. --timeout 60000" });
  const promptStyle = values.prompt as string | undefined;
  if (promptStyle !== undefined && !PROMPT_STYLES.includes(promptStyle as PromptStyle))
    throw new InputError(`${command}: unknown --prompt '${promptStyle}'`, {
      hint: `use one of: ${PROMPT_STYLES.join(", ")}`,
    });
  const checkpointer = values.checkpointer as string | undefined;
  const dbSpec = values.db as string | undefined;
  const db = await openCliDatabase(dbSpec);
  let model: OpenedTextGenerator | undefined;
  try {
    model = await openModel(
      (values.model as string | undefined) ?? (await cliDemoModel()),
      values.adapter as string | undefined,
      candidates,
      gpu,
      timeoutMs,
    );
    const agent = await createText2SqlAgent({
      model,
      db,
      candidates,
      timeoutMs,
      ...(promptStyle ? { promptStyle: promptStyle as PromptStyle } : {}),
      businessRules: defaultBusinessRules(dbSpec),
      ...(checkpointer ? { checkpointer } : {}),
    }).catch((error: unknown) => {
      throw asInputError(error); // an unusable checkpointer spec or server is unusable input (exit 2)
    });
    const opened = model;
    return {
      agent,
      db,
      dbSpec,
      async close() {
        await agent.close();
        await opened.dispose();
        await db.close();
      },
    };
  } catch (error) {
    await model?.dispose();
    await db.close();
    throw error;
  }
}
