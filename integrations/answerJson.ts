/**
 * An answer as the agent apps see it — the one JSON form of an ask for `gl-rl ask --json`, the MCP server's
 * `ask` tool and the LangChain tool: `{ sql, rows, confidence, explanation, warnings }`, plus `error` when
 * a stage failed or the time budget ran out. Its zod shape is the MCP tool's output schema, so the form
 * and its schema cannot drift apart.
 *
 * Rows are as the answer holds them: JSON-safe already (orchestrator/text2sqlState.ts `storedOutcome`) and
 * bounded as every execution is (the executor's row cap and `maxResultBytes`).
 *
 * @example
 * const answer = await agent.ask("How many projects are there?");
 * process.stdout.write(JSON.stringify(answerJson(answer)));
 */
import { z } from "zod";
import type { Text2SqlAnswer } from "../orchestrator/text2sqlState.js";

/** The zod shape of `answerJson`'s result (an MCP tool's output schema). */
export const ANSWER_JSON_SHAPE = {
  sql: z.string().nullable().describe("the chosen SQL; null when the question could not be answered"),
  rows: z.array(z.record(z.string(), z.unknown())).describe("the SQL's result rows, { column: value }"),
  confidence: z.number().min(0).max(1).describe("the winning result's vote share among the candidates, 0..1"),
  explanation: z.string(),
  warnings: z.array(z.string()),
  error: z
    .object({ stage: z.string(), code: z.string(), message: z.string() })
    .optional()
    .describe("why the ask stopped short (code 'timeout' when its time budget ran out)"),
};

export type AnswerJson = z.infer<z.ZodObject<typeof ANSWER_JSON_SHAPE>>;

export function answerJson(answer: Text2SqlAnswer): AnswerJson {
  return {
    sql: answer.sql,
    rows: answer.rows,
    confidence: answer.confidence,
    explanation: answer.explanation,
    warnings: answer.warnings,
    ...(answer.error ? { error: answer.error } : {}),
  };
}
