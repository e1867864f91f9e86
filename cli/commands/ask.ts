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
import { InputError } from "../../errors.js";
import { answerJson } from "../../integrations/answerJson.js";
import type { Text2SqlAnswer } from "../../orchestrator/text2sqlState.js";
import { formatQueryResult, toJsonLine } from "../formatQueryResult.js";
import { AGENT_FLAGS, openCliAgent } from "../openCliAgent.js";
import { parseCommandArgs } from "../parseCommandArgs.js";

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
    { ...AGENT_FLAGS, evidence: { type: "string" }, thread: { type: "string" }, json: { type: "boolean" } },
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
  const thread = values.thread as string | undefined;
  if (thread !== undefined && thread.trim() === "")
    throw new InputError("--thread needs an id", { hint: "e.g. --thread alice-1" });
  const { agent, close } = await openCliAgent(values, "gl-rl ask");
  try {
    const evidence = values.evidence as string | undefined;
    const answer = await agent.ask(positionals[0]!, {
      ...(evidence ? { evidence } : {}),
      ...(thread ? { threadId: thread } : {}),
    });
    if (values.json) {
      process.stdout.write(toJsonLine(answerJson(answer)));
    } else {
      printAnswer(answer);
    }
    return answer.sql === null ? 1 : 0;
  } finally {
    await close();
  }
}
