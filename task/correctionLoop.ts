/**
 * The correction loop's rules — what `ask` runs (orchestrator/text2sqlNodes.ts, text2sqlGraph.ts, answerNode.ts) and
 * what multi-turn GRPO trains (task/runEpisodes.ts, trainers/grpo/grpoEpisodes.ts): both call these functions, so the
 * deployed loop and the trained one cannot drift apart (docs/agents.md "The correction loop").
 *
 *   turn 1      turnPrompt(style, q, context, null)    = the task prompt (task/text2sqlPrompt.ts)
 *   feedback    the SQL is validated (sql/validateSql: syntax, schema, safety policy, planner, business rules);
 *               a valid one is executed sandboxed (read-only transaction, time limit, row cap) — `executesAfter`
 *   failure     `candidateFailure`: the execution's error and hint; else the validator's errors, joined, and the
 *               first one's hint; none for a query that ran, one not validated yet, or a completion without SQL
 *               (nothing to correct)
 *   stop        `nextTurn`: stop on an answer (a query ran), when no failure can be shown, or after maxTurns turns
 *   turn k > 1  turnPrompt(style, q, context, failure) = the correction prompt: the same prompt plus the failed
 *               SQL, the error and its hint
 *
 * @example
 * const failure = candidateFailure("SELECT nme FROM projects", verdict, null);
 * // { failedSql: "SELECT nme FROM projects", error: "column \"nme\" does not exist", hint: "…" }
 * nextTurn({ answered: false, failure, turn: 1, maxTurns: 2 }); // "correct"
 */
import type { PromptStyle } from "../models/promptTemplates.js";
import type { Prompt } from "../models/textGenerator.js";
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";
import type { ValidationResult } from "../sql/validateSql.js";
import {
  taskCorrectionPrompt,
  taskPrompt,
  type TaskContext,
  type TaskFailure,
  type TaskQuestion,
} from "./text2sqlPrompt.js";

/** One turn's prompt: the task prompt on turn 1 (`failure` null), the correction prompt after a failure. */
export function turnPrompt(
  style: PromptStyle,
  question: TaskQuestion,
  context: TaskContext | undefined,
  failure: TaskFailure | null,
): Prompt {
  return failure === null
    ? taskPrompt(style, question, context)
    : taskCorrectionPrompt(style, question, context, failure);
}

/** Whether a candidate is executed: it has SQL and the validator passed it. */
export function executesAfter(sql: string | null, verdict: ValidationResult | null | undefined): boolean {
  return sql !== null && verdict?.valid === true;
}

/** The failure a correction prompt shows for one candidate (see the file comment); null when there is none. */
export function candidateFailure(
  sql: string | null,
  verdict: ValidationResult | null | undefined,
  execution: ExecutionOutcome | null | undefined,
): TaskFailure | null {
  if (sql === null) return null;
  if (execution && !execution.ok)
    return { failedSql: sql, error: execution.error, ...(execution.hint ? { hint: execution.hint } : {}) };
  if (verdict && !verdict.valid && verdict.errors.length > 0)
    return {
      failedSql: sql,
      error: verdict.errors.map((e) => e.message).join("; "),
      ...(verdict.errors[0]!.hint ? { hint: verdict.errors[0]!.hint } : {}),
    };
  return null;
}

/** Where the loop goes after turn `turn` (1-based) of at most `maxTurns`. */
export function nextTurn(state: {
  /** A query of this turn ran (ask: the vote has a winner). */
  answered: boolean;
  /** The failure a correction would show (null: nothing to correct). */
  failure: TaskFailure | null;
  turn: number;
  maxTurns: number;
}): "stop" | "correct" {
  return !state.answered && state.failure !== null && state.turn < state.maxTurns ? "correct" : "stop";
}

/** What one turn's SQL got back: the validator's verdict and, when valid, the sandboxed execution's outcome. */
export interface TurnFeedback {
  verdict: ValidationResult | null;
  execution: ExecutionOutcome | null;
  failure: TaskFailure | null;
}

/** The validator and the sandboxed executor a turn's feedback comes from. */
export interface TurnTools {
  validate(sql: string): Promise<ValidationResult>;
  /** Sandboxed (read-only, time limit, row cap); failures are outcomes, not exceptions. */
  execute(sql: string): Promise<ExecutionOutcome>;
}

/** Validates the SQL, executes it when valid, and names the failure a correction would show. */
export async function turnFeedback(sql: string | null, tools: TurnTools): Promise<TurnFeedback> {
  const verdict = sql === null ? null : await tools.validate(sql);
  const execution = executesAfter(sql, verdict) ? await tools.execute(sql!) : null;
  return { verdict, execution, failure: candidateFailure(sql, verdict, execution) };
}
