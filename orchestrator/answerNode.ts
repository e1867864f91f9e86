/**
 * The orchestrator's last nodes, pure over the state: `selectNode` (the vote over execution results,
 * orchestrator/voteOnResults.ts), `worstFailure` (what a correction prompt is shown) and `answerNode` (the
 * `Text2SqlAnswer`); and the two answers the facade makes itself: `timedOutAnswer`, `interruptedAnswer`.
 *
 * The answer: the winning candidate's SQL and rows, confidence = the winning result's vote share (halved when
 * the question linked no table), an explanation in words, and the warnings (follow-up reading, unlinked
 * question, the validator's warnings, a cut result). With no winner: sql null, confidence 0, status
 * "unanswered", and the reason — the stage's AskError when one stopped the ask (`error`), else why no
 * candidate produced a result. Never an invented table, never a crash.
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { resultKey, voteOnResults } from "./voteOnResults.js";
import { emit, type GraphDeps } from "./graphDeps.js";
import { queryResultRows, type ExecutionOutcome } from "../sql/sqlExecutor.js";
import { candidateFailure } from "../task/correctionLoop.js";
import type { TaskFailure } from "../task/text2sqlPrompt.js";
import type { AskStage, Text2SqlAnswer, Text2SqlStateType, Text2SqlUpdate } from "./text2sqlState.js";

export function selectNode(state: Text2SqlStateType): Text2SqlUpdate {
  const vote = voteOnResults(
    state.candidates.map((c, i) => {
      const e = state.executions[i];
      return { sql: c.sql, confidence: c.confidence, resultKey: e?.ok ? resultKey(e.result.rows) : null };
    }),
  );
  return { vote };
}

/** The most confident failure: its SQL and the error a correction prompt should see (task/correctionLoop.ts). */
export function worstFailure(state: Text2SqlStateType): TaskFailure | null {
  const order = state.candidates
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.sql !== null)
    .sort((a, b) => b.c.confidence - a.c.confidence);
  for (const { c, i } of order) {
    const failure = candidateFailure(c.sql, state.verdicts[i], state.executions[i]);
    if (failure !== null) return failure;
  }
  return null;
}

function explanationFor(
  state: Text2SqlStateType,
  winner: number,
  votes: number,
  execution: ExecutionOutcome & { ok: true },
): string {
  const n = state.candidates.length;
  const rows = execution.result.rowCount;
  const tables = state.linked?.tables.length ? ` Linked tables: ${state.linked.tables.join(", ")}.` : "";
  const corrected =
    state.attempt > 0 ? ` Found after ${state.attempt} correction round${state.attempt === 1 ? "" : "s"}.` : "";
  return `${votes} of ${n} candidate${n === 1 ? "" : "s"} agree on this result (${rows} row${rows === 1 ? "" : "s"}); candidate ${winner + 1} is the most confident of them.${tables}${corrected}`;
}

export function answerNode(deps: GraphDeps, state: Text2SqlStateType, config: LangGraphRunnableConfig): Text2SqlUpdate {
  const candidates = state.candidates;
  const summary = candidates.map((c, i) => {
    const v = state.verdicts[i] ?? null;
    const e = state.executions[i] ?? null;
    const error =
      v && !v.valid
        ? v.errors.map((x) => x.message).join("; ")
        : e && !e.ok
          ? e.error
          : c.sql === null
            ? "no SQL in the model's answer"
            : null;
    return { sql: c.sql, confidence: c.confidence, valid: v ? v.valid : null, error };
  });
  const warnings = [...state.warnings];
  const threadId = (config.configurable?.userThread as string | undefined) ?? null;
  const turn = (sql: string | null) => [{ question: state.question, effectiveQuestion: state.effectiveQuestion, sql }];
  const winner = state.failure ? null : (state.vote?.winner ?? null);
  const execution = winner === null ? null : state.executions[winner];
  if (winner !== null && execution?.ok) {
    for (const w of state.verdicts[winner]?.warnings ?? []) warnings.push(`${w.code}: ${w.message}`);
    if (execution.result.truncated)
      warnings.push(execution.result.warning ?? `the result was cut at ${execution.result.rowCount} rows`);
    const share = state.vote!.share;
    const confidence = state.linked?.tables.length === 0 ? share * 0.5 : share;
    const answer: Text2SqlAnswer = {
      sql: candidates[winner]!.sql,
      rows: queryResultRows(execution.result),
      columns: execution.result.columns.map((c) => c.name),
      confidence,
      warnings,
      status: "answered",
      error: null,
      explanation: explanationFor(state, winner, state.vote!.votes, execution),
      candidates: summary,
      corrections: state.attempt,
      threadId,
    };
    emit(deps, config, "selected", {
      sql: answer.sql,
      confidence,
      votes: state.vote!.votes,
      candidates: candidates.length,
    });
    return { answer, threadTurns: turn(answer.sql) };
  }
  const errors = [...new Set(summary.map((s) => s.error).filter((e): e is string => e !== null))].slice(0, 3);
  const reasons =
    state.failure?.message ??
    (candidates.length === 0
      ? "no candidate was generated"
      : `none of the ${candidates.length} candidates produced a result (${errors.join("; ")})`);
  const linked = state.linked?.tables.length ? ` (linked tables: ${state.linked.tables.join(", ")})` : "";
  const explanation = state.failure
    ? `Could not answer: ${reasons}.`
    : `Could not answer: ${reasons}. The question may not be answerable from this database${linked}.`;
  emit(deps, config, "selected", { sql: null, confidence: 0, votes: 0, candidates: candidates.length });
  const answer: Text2SqlAnswer = {
    sql: null,
    rows: [],
    columns: [],
    confidence: 0,
    explanation,
    warnings,
    status: "unanswered",
    error: state.failure,
    candidates: summary,
    corrections: state.attempt,
    threadId,
  };
  return { answer, threadTurns: turn(null) };
}

/** The answer of a run the facade's own guard stopped (the graph overran its deadline). */
export function timedOutAnswer(stage: AskStage, timeoutMs: number, threadId: string | null): Text2SqlAnswer {
  const message = `the ask's time budget (${timeoutMs} ms) ran out during ${stage}`;
  return {
    sql: null,
    rows: [],
    columns: [],
    confidence: 0,
    explanation: `Could not answer: ${message}.`,
    warnings: [],
    status: "unanswered",
    error: { stage, code: "timeout", message },
    candidates: [],
    corrections: 0,
    threadId,
  };
}

/** The answer of a run stopped before execute for review (`interruptBeforeExecute`): the candidates so far. */
export function interruptedAnswer(values: Text2SqlStateType, threadId: string): Text2SqlAnswer {
  return {
    sql: null,
    rows: [],
    columns: [],
    confidence: 0,
    warnings: values.warnings,
    status: "interrupted",
    error: null,
    explanation: `Stopped before execution for review: ${values.candidates.filter((c) => c.sql).length} candidate(s) ready; call resume("${threadId}") to run them.`,
    candidates: values.candidates.map((c, i) => ({
      sql: c.sql,
      confidence: c.confidence,
      valid: values.verdicts[i]?.valid ?? null,
      error: null,
    })),
    corrections: values.attempt,
    threadId,
  };
}
