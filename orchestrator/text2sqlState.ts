/**
 * The orchestrator's state, declared once (`Text2SqlState`); every other type is derived from it. Every
 * channel has a default, so a parent graph that embeds the compiled graph as a subgraph need only pass
 * `question`. The state is checkpointed (MemorySaver, PostgreSQL…), so it holds JSON-safe values only:
 * query results are kept as `ExecutionOutcome`s (sql/sqlExecutor.ts, the one outcome type) whose cells
 * `storedOutcome` made JSON-safe (bigint → number or decimal text, Date → ISO text, bytes → '\x…' hex).
 *
 * Channels, per ask unless said otherwise:
 *   question, evidence       the input (evidence: BIRD's business definitions; null when none)
 *   threadTurns              the thread's finished asks (kept across asks; the last 20)
 *   effectiveQuestion        the question as answered (a follow-up joined to the previous one)
 *   linked                   tables, columns and literal values linked (task/schemaLinking.ts)
 *   candidates, verdicts, executions   one entry per candidate, aligned by index
 *   vote                     the vote over execution results (orchestrator/voteOnResults.ts)
 *   attempt                  correction rounds used
 *   failure                  why the ask cannot go on: the stage, a code, a message (an AskError)
 *   warnings, answer         what the asker gets
 */
import { Annotation } from "@langchain/langgraph";
import type { GeneratedCandidate } from "../agents/generatorAgent.js";
import type { SqlVerdict } from "../agents/validatorAgent.js";
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";
import type { LinkedSchema } from "../task/schemaLinking.js";
import type { VoteOutcome } from "./voteOnResults.js";

/** One finished ask in a thread. */
export interface ThreadTurn {
  question: string;
  /** The question as answered (a follow-up joined to the previous one). */
  effectiveQuestion: string;
  sql: string | null;
}

/** The stage of an ask. */
export type AskStage = "link" | "generate" | "validate" | "execute" | "correct";

/**
 * Why an ask stopped short of an answer: the stage, a code (`timeout` when the ask's time budget ran out;
 * `empty_question`, `question_too_long`, `db_unreachable`, or the failing error's own code) and a message.
 */
export interface AskError {
  stage: AskStage;
  code: string;
  message: string;
}

/** What an ask returns. */
export interface Text2SqlAnswer {
  /** The chosen SQL; null when no candidate produced a result. */
  sql: string | null;
  rows: Record<string, unknown>[];
  columns: string[];
  /** The winning result's vote share, 0..1 (0 when unanswered). */
  confidence: number;
  explanation: string;
  warnings: string[];
  /** answered; unanswered (no candidate ran); interrupted (stopped before execute: call `resume`). */
  status: "answered" | "unanswered" | "interrupted";
  /** Why the ask stopped: a model or database failure, or the time budget (`code: "timeout"`); else null. */
  error: AskError | null;
  candidates: { sql: string | null; confidence: number; valid: boolean | null; error: string | null }[];
  /** Correction rounds used. */
  corrections: number;
  threadId: string | null;
}

/** A channel that keeps the last value written, with a default. */
const value = <T>(initial: () => T) => Annotation<T>({ reducer: (_previous, next) => next, default: initial });

export const Text2SqlState = Annotation.Root({
  question: value<string>(() => ""),
  evidence: value<string | null>(() => null),
  threadTurns: Annotation<ThreadTurn[]>({ reducer: (a, b) => [...a, ...b].slice(-20), default: () => [] }),
  effectiveQuestion: value<string>(() => ""),
  linked: value<LinkedSchema | null>(() => null),
  candidates: value<GeneratedCandidate[]>(() => []),
  verdicts: value<(SqlVerdict | null)[]>(() => []),
  executions: value<(ExecutionOutcome | null)[]>(() => []),
  vote: value<VoteOutcome | null>(() => null),
  attempt: value<number>(() => 0),
  failure: value<AskError | null>(() => null),
  warnings: value<string[]>(() => []),
  answer: value<Text2SqlAnswer | null>(() => null),
});
export type Text2SqlStateType = typeof Text2SqlState.State;
export type Text2SqlUpdate = typeof Text2SqlState.Update;

/** A cell as the state keeps it (JSON-safe, see the file comment). */
function storedCell(cell: unknown): unknown {
  if (typeof cell === "bigint") return Number.isSafeInteger(Number(cell)) ? Number(cell) : cell.toString();
  // Tag checks, not instanceof: a worker thread's (or a test realm's) Date is another realm's Date.
  const tag = Object.prototype.toString.call(cell);
  if (tag === "[object Date]") {
    const time = (cell as Date).getTime();
    return Number.isNaN(time) ? null : new Date(time).toISOString();
  }
  if (tag === "[object Uint8Array]") return `\\x${Buffer.from(cell as Uint8Array).toString("hex")}`;
  return cell;
}

/** An outcome as the state keeps it: its cells JSON-safe. */
export function storedOutcome(outcome: ExecutionOutcome): ExecutionOutcome {
  if (!outcome.ok) return outcome;
  return { ok: true, result: { ...outcome.result, rows: outcome.result.rows.map((row) => row.map(storedCell)) } };
}
