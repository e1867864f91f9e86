/**
 * The text-to-SQL orchestrator: a LangGraph StateGraph whose nodes hand their work to agent actors.
 *
 *   START ─▶ link ─▶ generate ─▶ validate ─▶ execute ─▶ select ─┬─▶ respond ─▶ END
 *             │                     ▲                          │
 *             │ (empty question,    └──────── correct ◀────────┘ (no candidate ran; ≤ maxCorrections)
 *             │  unreachable DB)
 *             └──────────────────────────────────────────────────▶ respond
 *
 * 1. link: schema (introspected once per database, cached) → tables/columns by name overlap, literal
 *    values the question mentions looked up in the database (orchestrator/schemaLinking.ts). A follow-up
 *    in a thread ("now only for 2024") is read together with the thread's previous question.
 * 2. generate: the generator actor (N candidates, temperature ladder, cache, feedback examples).
 * 3. validate: the validator actor (sql/ validator: syntax, schema, safety); confidence scaled by verdict.
 * 4. execute: the valid candidates, sandboxed (read-only transaction, time limit, row cap).
 * 5. select: vote over execution results; confidence = the winning result's vote share
 *    (orchestrator/voteOnResults.ts). No result and corrections left → correct: the generator actor in
 *    correction mode with the most confident failure's error, then validate again.
 * 6. respond: the `answer` `{ sql, rows, confidence, explanation, warnings }`; an unanswerable question gets sql null,
 *    confidence 0 and an explanation — never an invented table, never a crash.
 * State is declared once (`Text2SqlState`); every node returns a partial update. The graph streams
 * `updates` and `custom` events (the same events as the bus), takes any checkpointer (MemorySaver by
 * default) so a thread continues across asks, and can stop before `execute` (`interruptBeforeExecute`).
 *
 * @example
 * const agent = await createText2SqlAgent({ model: "demo.gguf", db: "demo" });
 * const answer = await agent.ask("Show all active projects with budget over 100000");
 * console.log(answer.sql, answer.rows.length, answer.confidence);
 * await agent.close();
 */
import { randomUUID } from "node:crypto";
import {
  Annotation,
  END,
  MemorySaver,
  START,
  StateGraph,
  type BaseCheckpointSaver,
  type LangGraphRunnableConfig,
} from "@langchain/langgraph";
import {
  FeedbackMemory,
  generatorMachine,
  withVerdict,
  type GeneratedCandidate,
  type GenerationRequest,
} from "../agents/generatorAgent.js";
import { executeCandidates, validatorMachine, type SqlVerdict, type ValidateSqlFn } from "../agents/validatorAgent.js";
import { InputError, SqlRefusedError, isGlRlError } from "../errors.js";
import { loadModel } from "../models/loadModel.js";
import type { PromptStyle, TableContext } from "../models/promptTemplates.js";
import type { Completion, GenerationParams, TextGenerator } from "../models/textGenerator.js";
import { createActorRuntime, type ActorRuntime, type ActorRuntimeOptions } from "../runtime/actorRuntime.js";
import { BoundedCache, schemaCacheKey } from "../runtime/boundedCache.js";
import {
  createEventBus,
  inspectToBus,
  type AgentEventName,
  type AgentEventPayloads,
  type EventBus,
} from "../runtime/eventBus.js";
import { openDatabase } from "../sql/openDatabase.js";
import { introspectSchema, schemaDdl, type SchemaModel } from "../sql/schemaModel.js";
import { queryResultRows, type ExecuteOptions, type SqlExecutor } from "../sql/sqlExecutor.js";
import { validateSql } from "../sql/validateSql.js";
import { linkSchema, lookupLiterals, type LinkedSchema } from "./schemaLinking.js";
import { resultKey, voteOnResults, type VoteOutcome } from "./voteOnResults.js";

// ─── state ──────────────────────────────────────────────────────────────────────────────────────────

/** One finished ask in a thread. */
export interface ThreadTurn {
  question: string;
  /** The question as answered (a follow-up joined to the previous one). */
  effectiveQuestion: string;
  sql: string | null;
}

/** A candidate's execution as kept in the (checkpointed, JSON-safe) state. */
export type StoredExecution =
  | { ok: true; columns: string[]; rows: Record<string, unknown>[]; rowCount: number; truncated: boolean; key: string }
  | { ok: false; code: string; error: string; hint?: string };

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
  candidates: { sql: string | null; confidence: number; valid: boolean | null; error: string | null }[];
  /** Correction rounds used. */
  corrections: number;
  threadId: string | null;
}

export const Text2SqlState = Annotation.Root({
  question: Annotation<string>,
  /** The asker's business definitions / hints for this question (BIRD's "evidence"); null when none. */
  evidence: Annotation<string | null>,
  threadTurns: Annotation<ThreadTurn[]>({ reducer: (a, b) => [...a, ...b].slice(-20), default: () => [] }),
  effectiveQuestion: Annotation<string>,
  linked: Annotation<LinkedSchema | null>,
  candidates: Annotation<GeneratedCandidate[]>,
  verdicts: Annotation<(SqlVerdict | null)[]>,
  executions: Annotation<(StoredExecution | null)[]>,
  vote: Annotation<VoteOutcome | null>,
  attempt: Annotation<number>,
  failure: Annotation<string | null>,
  warnings: Annotation<string[]>,
  answer: Annotation<Text2SqlAnswer | null>,
});
export type Text2SqlStateType = typeof Text2SqlState.State;
export type Text2SqlUpdate = typeof Text2SqlState.Update;

// ─── options ────────────────────────────────────────────────────────────────────────────────────────

export interface Text2SqlAgentOptions {
  /** A TextGenerator (e.g. a LoadedModel) or a GGUF path / hf: URI to load (then closed by `close`). */
  model: TextGenerator | string;
  /** An executor or a `--db` spec (demo | pglite:<dir> | postgres://…), opened lazily. Default "demo". */
  db?: SqlExecutor | string;
  /** Candidates per question. Default 4. */
  candidates?: number;
  /** Default: "tiny" for the tiny demo model (vocabulary < 32k tokens), else "schemaAware". */
  promptStyle?: PromptStyle;
  /** Any LangGraph checkpointer. Default a MemorySaver. */
  checkpointer?: BaseCheckpointSaver;
  /** Correction rounds when no candidate runs. Default 1. */
  maxCorrections?: number;
  /** Stop before executing (human review); `resume(threadId)` continues. Default false. */
  interruptBeforeExecute?: boolean;
  /** The validator. Default sql/validateSql. */
  validate?: ValidateSqlFn;
  /** Sandbox limits of candidate execution. Default { timeoutMs: 5000, maxRows: 1000 }. */
  executeOptions?: ExecuteOptions;
  generationParams?: Partial<GenerationParams>;
  runtime?: ActorRuntimeOptions;
  /** Generation cache entries. Default 512 (0 disables). */
  cacheSize?: number;
  /** Loading `model` from a path: sequences of the context (default = candidates) and GPU choice. */
  load?: { sequences?: number; gpu?: "auto" | false; adapter?: string };
  /** An event bus to share; default a new one (`agent.events`). */
  events?: EventBus;
  /**
   * When the checkpointer saves: "exit" (default: once, when the run ends or stops before execute — a
   * thread still continues; an ask is short, so a crash mid-run just means asking again), "async" or
   * "sync" (after every step; ≈ 20 ms more per ask with the MemorySaver).
   */
  durability?: "exit" | "async" | "sync";
}

export interface AskOptions {
  /** Continue a thread (its previous turns inform follow-ups). Default: a one-off thread. */
  threadId?: string;
  /**
   * Business definitions or hints for this question, as BIRD's "evidence" (e.g. "active projects have
   * status = 'active'"). The prompt carries them; the tiny demo model was trained with them.
   */
  evidence?: string;
  signal?: AbortSignal;
}

export interface Text2SqlAgent {
  ask(question: string, options?: AskOptions): Promise<Text2SqlAnswer>;
  /** The graph's `updates` and `custom` stream for one ask: `[mode, chunk]` pairs. */
  stream(question: string, options?: AskOptions): AsyncIterable<[string, unknown]>;
  /** Continues a thread stopped before execute. */
  resume(threadId: string, options?: { signal?: AbortSignal }): Promise<Text2SqlAnswer>;
  /** Stores a user's correct SQL for a question: a few-shot example (and candidate) for similar questions. */
  feedback(question: string, sql: string): Promise<void>;
  /** The compiled graph (usable as a subgraph: it reads `question` and writes `answer`). */
  graph: Text2SqlGraph;
  events: EventBus;
  /** Stops the actors; closes the model and the database when the agent opened them. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The compiled text-to-SQL graph. */
export type Text2SqlGraph = ReturnType<typeof buildGraph>;

// ─── dependencies the nodes close over ──────────────────────────────────────────────────────────────

interface GraphDeps {
  generator(): Promise<TextGenerator>;
  db(): Promise<SqlExecutor>;
  schema(): Promise<SchemaModel>;
  runtime: ActorRuntime;
  bus: EventBus;
  cache: BoundedCache<Promise<Completion[]>> | undefined;
  feedback: FeedbackMemory;
  validate: ValidateSqlFn;
  promptStyle(): Promise<PromptStyle>;
  candidates: number;
  maxCorrections: number;
  executeOptions: ExecuteOptions;
  generationParams: Partial<GenerationParams>;
}

const FOLLOW_UP = /^(now|only|just|and|but|also|what about|how about|instead|then|same|limit|restrict)\b/i;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message.split("\n")[0]! : String(error));

function runIdOf(config: LangGraphRunnableConfig): string {
  return (
    (config.configurable?.runId as string | undefined) ??
    (config.configurable?.thread_id as string | undefined) ??
    "run"
  );
}

/** Emits on the bus and into the graph's `custom` stream. */
function emit<K extends AgentEventName>(
  deps: GraphDeps,
  config: LangGraphRunnableConfig,
  name: K,
  payload: AgentEventPayloads[K],
): void {
  deps.bus.emitTimed(name, runIdOf(config), payload);
  config.writer?.({ event: name, ...payload });
}

function callOptions(
  deps: GraphDeps,
  config: LangGraphRunnableConfig,
  id: string,
): { signal?: AbortSignal; id: string; inspect?: ReturnType<typeof inspectToBus> } {
  return {
    id,
    ...(config.signal ? { signal: config.signal } : {}),
    ...(deps.bus.listenerCount("progress") > 0 ? { inspect: inspectToBus(deps.bus, runIdOf(config)) } : {}),
  };
}

// ─── nodes ──────────────────────────────────────────────────────────────────────────────────────────

async function linkNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const reset = {
    candidates: [],
    verdicts: [],
    executions: [],
    vote: null,
    attempt: 0,
    failure: null,
    answer: null,
    linked: null,
  };
  const question = (state.question ?? "").trim();
  const previous = (state.threadTurns ?? []).at(-1);
  const effectiveQuestion =
    previous && FOLLOW_UP.test(question) ? `${previous.effectiveQuestion} ${question}` : question;
  const warnings: string[] = [];
  if (effectiveQuestion !== question)
    warnings.push(`read as a follow-up of the previous question: "${effectiveQuestion}"`);
  if (question.length === 0)
    return {
      ...reset,
      effectiveQuestion,
      warnings,
      failure: 'the question is empty: ask something about the database, e.g. "How many active projects are there?"',
    };
  if (question.length > 2000)
    return {
      ...reset,
      effectiveQuestion,
      warnings,
      failure: `the question is ${question.length} characters long; keep it under 2000`,
    };
  emit(deps, config, "progress", { stage: "link", detail: "reading the schema" });
  try {
    const [schema, db] = await Promise.all([deps.schema(), deps.db()]);
    const linked = linkSchema(effectiveQuestion, schema);
    linked.literals = await lookupLiterals(effectiveQuestion, schema, linked.tables, db, config.signal);
    if (linked.tables.length === 0)
      warnings.push("the question names no table or column of this database; the answer may not be meaningful");
    return { ...reset, effectiveQuestion, linked, warnings };
  } catch (error) {
    emit(deps, config, "failed", { stage: "link", error: messageOf(error) });
    const hint = isGlRlError(error) && error.hint ? ` (hint: ${error.hint})` : "";
    return {
      ...reset,
      effectiveQuestion,
      warnings,
      failure: `the database is not reachable: ${messageOf(error)}${hint}`,
    };
  }
}

async function generationRequest(deps: GraphDeps, state: Text2SqlStateType): Promise<GenerationRequest> {
  const style = await deps.promptStyle();
  const linked = state.linked ?? { tables: [], columns: [], literals: [] };
  const request: GenerationRequest = {
    question: state.effectiveQuestion,
    promptStyle: style,
    schemaFingerprint: (await deps.schema()).fingerprint,
    n: deps.candidates,
    params: { maxTokens: style === "tiny" ? 96 : 384, ...deps.generationParams },
    examples: deps.feedback.similar(state.effectiveQuestion),
  };
  const given = state.evidence ? [state.evidence] : [];
  if (given.length > 0) request.evidence = given.join("; ");
  if (style !== "tiny") {
    const schema = await deps.schema();
    const tables = linked.tables.length > 0 ? linked.tables : schema.tables.map((t) => t.name);
    request.tables = tables.map((t): TableContext => ({ ddl: schemaDdl(schema, [t]) }));
    const literalNotes = linked.literals.map((l) => `'${l.text}' is stored as '${l.value}' in ${l.table}.${l.column}`);
    const previous = (state.threadTurns ?? []).at(-1);
    const prior =
      previous?.sql && state.effectiveQuestion !== state.question ? [`The previous query was: ${previous.sql}`] : [];
    if (given.length + literalNotes.length + prior.length > 0)
      request.evidence = [...given, ...literalNotes, ...prior].join("; ");
  }
  return request;
}

async function generateNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const t0 = performance.now();
  try {
    const candidates = await deps.runtime.call(
      generatorMachine,
      {
        request: await generationRequest(deps, state),
        generator: await deps.generator(),
        cache: deps.cache,
        adapter: ((await deps.generator()) as { adapter?: string | null }).adapter ?? null,
      },
      callOptions(deps, config, "generator"),
    );
    const durationMs = performance.now() - t0;
    candidates.forEach((c, index) => {
      emit(deps, config, "candidate_generated", {
        index,
        sql: c.sql,
        confidence: c.confidence,
        temperature: c.temperature,
        durationMs,
      });
    });
    return { candidates };
  } catch (error) {
    emit(deps, config, "failed", { stage: "generate", error: messageOf(error) });
    return { candidates: [], failure: `the model could not generate: ${messageOf(error)}` };
  }
}

async function validateNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const t0 = performance.now();
  const candidates = state.candidates ?? [];
  const withSql = candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.sql !== null);
  try {
    const verdicts =
      withSql.length === 0
        ? []
        : await deps.runtime.call(
            validatorMachine,
            {
              sqls: withSql.map(({ c }) => c.sql!),
              schema: await deps.schema(),
              executor: await deps.db(),
              validate: deps.validate,
            },
            callOptions(deps, config, "validator"),
          );
    const aligned: (SqlVerdict | null)[] = candidates.map(() => null);
    withSql.forEach(({ i }, k) => {
      aligned[i] = verdicts[k]!;
    });
    const durationMs = performance.now() - t0;
    withSql.forEach(({ c, i }) => {
      emit(deps, config, "validated", {
        index: i,
        sql: c.sql!,
        valid: aligned[i]!.valid,
        errors: aligned[i]!.errors.map((e) => e.message),
        durationMs,
      });
    });
    return {
      verdicts: aligned,
      candidates: candidates.map((c, i) => ({
        ...c,
        confidence: aligned[i] ? withVerdict(c.confidence, aligned[i]!.valid) : c.confidence,
      })),
    };
  } catch (error) {
    emit(deps, config, "failed", { stage: "validate", error: messageOf(error) });
    return { verdicts: candidates.map(() => null), failure: `the validator failed: ${messageOf(error)}` };
  }
}

async function executeNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const t0 = performance.now();
  const candidates = state.candidates ?? [];
  const runnable = candidates
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => c.sql !== null && state.verdicts?.[i]?.valid === true);
  const executions: (StoredExecution | null)[] = candidates.map(() => null);
  if (runnable.length > 0) {
    const outcomes = await deps.runtime.call(
      executeCandidates,
      { sqls: runnable.map(({ c }) => c.sql!), executor: await deps.db(), options: deps.executeOptions },
      callOptions(deps, config, "executor"),
    );
    const durationMs = performance.now() - t0;
    runnable.forEach(({ c, i }, k) => {
      const o = outcomes[k]!;
      executions[i] = o.ok
        ? {
            ok: true,
            columns: o.result.columns.map((col) => col.name),
            rows: queryResultRows(o.result),
            rowCount: o.result.rowCount,
            truncated: o.result.truncated,
            key: resultKey(o.result.rows),
          }
        : { ok: false, code: o.code, error: o.error, ...(o.hint ? { hint: o.hint } : {}) };
      emit(deps, config, "executed", {
        index: i,
        sql: c.sql!,
        ok: o.ok,
        rowCount: o.ok ? o.result.rowCount : 0,
        error: o.ok ? null : o.error,
        durationMs,
      });
    });
  }
  return { executions };
}

function selectNode(state: Text2SqlStateType): Text2SqlUpdate {
  const candidates = state.candidates ?? [];
  const vote = voteOnResults(
    candidates.map((c, i) => {
      const e = state.executions?.[i];
      return { sql: c.sql, confidence: c.confidence, resultKey: e?.ok ? e.key : null };
    }),
  );
  return { vote };
}

/** The most confident failure: its SQL and the error a correction prompt should see. */
function worstFailure(state: Text2SqlStateType): { failedSql: string; error: string; hint?: string } | null {
  const candidates = state.candidates ?? [];
  const order = candidates
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.sql !== null)
    .sort((a, b) => b.c.confidence - a.c.confidence);
  for (const { c, i } of order) {
    const e = state.executions?.[i];
    if (e && !e.ok) return { failedSql: c.sql!, error: e.error, ...(e.hint ? { hint: e.hint } : {}) };
    const v = state.verdicts?.[i];
    if (v && !v.valid && v.errors.length > 0)
      return {
        failedSql: c.sql!,
        error: v.errors.map((x) => x.message).join("; "),
        ...(v.errors[0]!.hint ? { hint: v.errors[0]!.hint } : {}),
      };
  }
  return null;
}

async function correctNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const failure = worstFailure(state)!;
  const attempt = (state.attempt ?? 0) + 1;
  try {
    const request = { ...(await generationRequest(deps, state)), correction: failure };
    const candidates = await deps.runtime.call(
      generatorMachine,
      { request, generator: await deps.generator(), cache: deps.cache },
      callOptions(deps, config, "generator"),
    );
    emit(deps, config, "corrected", {
      attempt,
      failedSql: failure.failedSql,
      error: failure.error,
      sql: candidates.find((c) => c.sql !== null)?.sql ?? null,
    });
    // The new round replaces the failed one: the vote (and its share) is over the corrected candidates.
    return { attempt, candidates, verdicts: [], executions: [] };
  } catch (error) {
    emit(deps, config, "failed", { stage: "correct", error: messageOf(error) });
    return { attempt, failure: `the correction failed: ${messageOf(error)}` };
  }
}

function explanationFor(
  state: Text2SqlStateType,
  winner: number,
  votes: number,
  execution: StoredExecution & { ok: true },
): string {
  const n = state.candidates.length;
  const tables = state.linked?.tables.length ? ` Linked tables: ${state.linked.tables.join(", ")}.` : "";
  const corrected =
    state.attempt > 0 ? ` Found after ${state.attempt} correction round${state.attempt === 1 ? "" : "s"}.` : "";
  return `${votes} of ${n} candidate${n === 1 ? "" : "s"} agree on this result (${execution.rowCount} row${execution.rowCount === 1 ? "" : "s"}); candidate ${winner + 1} is the most confident of them.${tables}${corrected}`;
}

function answerNode(state: Text2SqlStateType, config: LangGraphRunnableConfig, deps: GraphDeps): Text2SqlUpdate {
  const candidates = state.candidates ?? [];
  const summary = candidates.map((c, i) => {
    const v = state.verdicts?.[i] ?? null;
    const e = state.executions?.[i] ?? null;
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
  const warnings = [...(state.warnings ?? [])];
  const threadId = (config.configurable?.userThread as string | undefined) ?? null;
  const winner = state.failure ? null : (state.vote?.winner ?? null);
  const execution = winner === null ? null : state.executions?.[winner];
  if (winner !== null && execution?.ok) {
    const verdict = state.verdicts?.[winner];
    for (const w of verdict?.warnings ?? []) warnings.push(`${w.code}: ${w.message}`);
    if (execution.truncated) warnings.push(`the result was cut at ${execution.rowCount} rows`);
    const share = state.vote!.share;
    const confidence = state.linked?.tables.length === 0 ? share * 0.5 : share;
    const answer: Text2SqlAnswer = {
      sql: candidates[winner]!.sql,
      rows: execution.rows,
      columns: execution.columns,
      confidence,
      warnings,
      status: "answered",
      explanation: explanationFor(state, winner, state.vote!.votes, execution),
      candidates: summary,
      corrections: state.attempt ?? 0,
      threadId,
    };
    emit(deps, config, "selected", {
      sql: answer.sql,
      confidence,
      votes: state.vote!.votes,
      candidates: candidates.length,
    });
    return {
      answer,
      threadTurns: [
        { question: state.question ?? "", effectiveQuestion: state.effectiveQuestion ?? "", sql: answer.sql },
      ],
    };
  }
  const reasons =
    state.failure ??
    (candidates.length === 0
      ? "no candidate was generated"
      : `none of the ${candidates.length} candidates produced a result (${[...new Set(summary.map((s) => s.error).filter((e): e is string => e !== null))].slice(0, 3).join("; ")})`);
  const explanation = state.failure
    ? `Could not answer: ${reasons}.`
    : `Could not answer: ${reasons}. The question may not be answerable from this database${state.linked?.tables.length ? ` (linked tables: ${state.linked.tables.join(", ")})` : ""}.`;
  emit(deps, config, "selected", { sql: null, confidence: 0, votes: 0, candidates: candidates.length });
  const answer: Text2SqlAnswer = {
    sql: null,
    rows: [],
    columns: [],
    confidence: 0,
    explanation,
    warnings,
    status: "unanswered",
    candidates: summary,
    corrections: state.attempt ?? 0,
    threadId,
  };
  return {
    answer,
    threadTurns: [{ question: state.question ?? "", effectiveQuestion: state.effectiveQuestion ?? "", sql: null }],
  };
}

// ─── graph ──────────────────────────────────────────────────────────────────────────────────────────

function buildGraph(deps: GraphDeps, options: { checkpointer: BaseCheckpointSaver; interruptBeforeExecute: boolean }) {
  const afterSelect = (state: Text2SqlStateType): "respond" | "correct" => {
    if (state.failure || state.vote?.winner !== null) return "respond";
    return (state.attempt ?? 0) < deps.maxCorrections && worstFailure(state) !== null ? "correct" : "respond";
  };
  return new StateGraph(Text2SqlState)
    .addNode("link", (s, c) => linkNode(deps, s, c))
    .addNode("generate", (s, c) => generateNode(deps, s, c))
    .addNode("validate", (s, c) => validateNode(deps, s, c))
    .addNode("execute", (s, c) => executeNode(deps, s, c))
    .addNode("select", (s) => selectNode(s))
    .addNode("correct", (s, c) => correctNode(deps, s, c))
    .addNode("respond", (s, c) => answerNode(s, c, deps))
    .addEdge(START, "link")
    .addConditionalEdges("link", (s) => (s.failure ? "respond" : "generate"), ["respond", "generate"])
    .addConditionalEdges("generate", (s) => (s.failure ? "respond" : "validate"), ["respond", "validate"])
    .addEdge("validate", "execute")
    .addEdge("execute", "select")
    .addConditionalEdges("select", afterSelect, ["respond", "correct"])
    .addEdge("correct", "validate")
    .addEdge("respond", END)
    .compile({
      checkpointer: options.checkpointer,
      ...(options.interruptBeforeExecute ? { interruptBefore: ["execute" as const] } : {}),
    });
}

/** A lazily created value that is created again after a failure. */
function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= create().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

/**
 * Creates the agent: the runtime, the caches, the event bus and the compiled graph.
 * @example
 * const agent = await createText2SqlAgent({ model: await loadModel({ model: "tiny.gguf" }), db: "demo", candidates: 4 });
 */
export async function createText2SqlAgent(options: Text2SqlAgentOptions): Promise<Text2SqlAgent> {
  const candidates = options.candidates ?? 4;
  if (!Number.isInteger(candidates) || candidates < 1 || candidates > 64)
    throw new InputError(`candidates must be an integer from 1 to 64, got ${candidates}`, {
      hint: "4 is a good default",
    });
  const maxCorrections = options.maxCorrections ?? 1;
  if (!Number.isInteger(maxCorrections) || maxCorrections < 0)
    throw new InputError(`maxCorrections must be a non-negative integer, got ${maxCorrections}`);
  if (
    options.model === undefined ||
    options.model === null ||
    (typeof options.model === "string" && options.model.trim() === "")
  ) {
    throw new InputError("createText2SqlAgent needs a model: a TextGenerator, a .gguf path or an hf: URI");
  }
  const ownsModel = typeof options.model === "string";
  const generator =
    typeof options.model === "string"
      ? lazy(
          () =>
            loadModel({
              model: options.model as string,
              gpu: options.load?.gpu ?? "auto",
              sequences: options.load?.sequences ?? candidates,
              ...(options.load?.adapter ? { adapter: options.load.adapter } : {}),
            }) as Promise<TextGenerator>,
        )
      : (() => {
          const g = Promise.resolve(options.model as TextGenerator);
          return () => g;
        })();
  if (ownsModel) await generator(); // a missing / broken model file fails here, with its ModelError
  const ownsDb = typeof options.db !== "object";
  const db =
    typeof options.db === "object"
      ? (() => {
          const d = Promise.resolve(options.db as SqlExecutor);
          return () => d;
        })()
      : lazy(() => openDatabase((options.db as string | undefined) ?? "demo"));
  const schemas = new BoundedCache<Promise<SchemaModel>>({ maxEntries: 8, ttlMs: 5 * 60_000 });
  const bus = options.events ?? createEventBus();
  const runtime = createActorRuntime({ concurrency: 64, mailboxSize: 4096, ...options.runtime });
  const checkpointer = options.checkpointer ?? new MemorySaver();
  const deps: GraphDeps = {
    generator,
    db,
    runtime,
    bus,
    candidates,
    maxCorrections,
    schema: async () => {
      const d = await db();
      return schemas.getOrCreate(schemaCacheKey(d.description), () => introspectSchema(d));
    },
    cache:
      options.cacheSize === 0
        ? undefined
        : new BoundedCache<Promise<Completion[]>>({ maxEntries: options.cacheSize ?? 512, ttlMs: 30 * 60_000 }),
    feedback: new FeedbackMemory(),
    validate: options.validate ?? validateSql,
    promptStyle: async () => {
      if (options.promptStyle) return options.promptStyle;
      const g = (await generator()) as { vocabularySize?: number };
      return typeof g.vocabularySize === "number" && g.vocabularySize > 0 && g.vocabularySize < 32_000
        ? "tiny"
        : "schemaAware";
    },
    executeOptions: { timeoutMs: 5000, maxRows: 1000, ...options.executeOptions },
    generationParams: options.generationParams ?? {},
  };
  const graph = buildGraph(deps, { checkpointer, interruptBeforeExecute: options.interruptBeforeExecute ?? false });

  const durability = options.durability ?? "exit";
  const runConfig = (threadId: string | undefined, runId: string, signal?: AbortSignal) => ({
    configurable: { thread_id: threadId ?? `ask-${runId}`, runId, userThread: threadId ?? null },
    recursionLimit: 40,
    durability,
    ...(signal ? { signal } : {}),
  });

  async function finish(
    threadId: string | undefined,
    runId: string,
    config: ReturnType<typeof runConfig>,
    final?: Text2SqlStateType,
  ): Promise<Text2SqlAnswer> {
    if (final?.answer) return final.answer; // finished: no need to read the checkpoint
    const snapshot = await graph.getState(config);
    const values = snapshot.values as Text2SqlStateType;
    if (snapshot.next.includes("execute")) {
      return {
        sql: null,
        rows: [],
        columns: [],
        confidence: 0,
        warnings: values.warnings ?? [],
        status: "interrupted",
        explanation: `Stopped before execution for review: ${values.candidates.filter((c) => c.sql).length} candidate(s) ready; call resume("${threadId ?? config.configurable.thread_id}") to run them.`,
        candidates: values.candidates.map((c, i) => ({
          sql: c.sql,
          confidence: c.confidence,
          valid: values.verdicts?.[i]?.valid ?? null,
          error: null,
        })),
        corrections: values.attempt ?? 0,
        threadId: threadId ?? config.configurable.thread_id,
      };
    }
    if (!values.answer)
      throw new InputError(`the run ${runId} ended without an answer`, {
        hint: "this is a bug in gl-rl; please report it",
      });
    return values.answer;
  }

  async function forget(
    threadId: string | undefined,
    config: ReturnType<typeof runConfig>,
    answer: Text2SqlAnswer | undefined,
  ): Promise<void> {
    // One-off threads are dropped (bounded memory) unless they wait for resume.
    if (threadId === undefined && answer?.status !== "interrupted")
      await checkpointer.deleteThread(config.configurable.thread_id);
  }

  const agent: Text2SqlAgent = {
    graph,
    events: bus,
    async ask(question, askOptions = {}) {
      if (typeof question !== "string") throw new InputError(`ask: question must be a string, got ${typeof question}`);
      const runId = randomUUID();
      const config = runConfig(askOptions.threadId, runId, askOptions.signal);
      bus.beginRun(runId);
      bus.emitTimed("started", runId, { question, threadId: askOptions.threadId ?? null });
      let answer: Text2SqlAnswer | undefined;
      try {
        const final = (await graph.invoke(
          { question, evidence: askOptions.evidence ?? null },
          config,
        )) as Text2SqlStateType;
        answer = await finish(askOptions.threadId, runId, config, final);
        return answer;
      } finally {
        await forget(askOptions.threadId, config, answer);
        bus.endRun(runId);
      }
    },
    async *stream(question, askOptions = {}) {
      const runId = randomUUID();
      const config = runConfig(askOptions.threadId, runId, askOptions.signal);
      bus.beginRun(runId);
      bus.emitTimed("started", runId, { question, threadId: askOptions.threadId ?? null });
      try {
        for await (const chunk of await graph.stream(
          { question, evidence: askOptions.evidence ?? null },
          { ...config, streamMode: ["updates", "custom"] as const },
        ))
          yield chunk as [string, unknown];
      } finally {
        await forget(askOptions.threadId, config, undefined);
        bus.endRun(runId);
      }
    },
    async resume(threadId, resumeOptions = {}) {
      const runId = randomUUID();
      const config = runConfig(threadId, runId, resumeOptions.signal);
      const snapshot = await graph.getState(config);
      if (!snapshot.next.includes("execute"))
        throw new InputError(`thread ${threadId} is not waiting before execute`, {
          hint: "ask with interruptBeforeExecute: true first",
        });
      bus.beginRun(runId);
      try {
        await graph.invoke(null, config);
        return await finish(threadId, runId, config);
      } finally {
        bus.endRun(runId);
      }
    },
    async feedback(question, sql) {
      const verdict = await deps.validate(sql, { schema: await deps.schema(), executor: await db() });
      if (!verdict.valid) {
        throw new SqlRefusedError(
          "feedback.invalid",
          `the corrected SQL is not valid: ${verdict.errors.map((e) => e.message).join("; ")}`,
          { hint: verdict.errors[0]?.hint ?? "give one read-only SELECT over this database's tables" },
        );
      }
      deps.feedback.remember(question, sql);
    },
    async close() {
      await runtime.dispose();
      if (ownsModel)
        await ((await generator().catch(() => null)) as { dispose?: () => Promise<void> } | null)?.dispose?.();
      if (ownsDb) await (await db().catch(() => null))?.close();
    },
    async [Symbol.asyncDispose]() {
      await agent.close();
    },
  };
  return agent;
}
