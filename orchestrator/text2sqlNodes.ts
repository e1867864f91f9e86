/**
 * The orchestrator's nodes. Each is `(deps, state, config) => Promise<Partial<State>>`, hands its work to an
 * agent (agents/: promise actors supervised by the actor runtime), and never throws: a model, validator or
 * database failure — or the ask's time budget running out — becomes `failure` (an AskError: stage, code,
 * message), which routes the ask to the answer.
 *
 * The time budget: the facade puts the ask's deadline (`performance.now()` time) into
 * `config.configurable.deadline`; every node starts only with time left, and gives each agent call, the
 * schema read and the literal lookups the time left at most (`Budget`). A timed-out agent call is not
 * retried (the facade's runtime treats time-outs as final).
 *
 * Nodes: link (schema, linked tables and values; a follow-up is read with the thread's previous question) →
 * generate (task/text2sqlPrompt.ts builds the prompt; the generator agent samples N candidates) → validate →
 * execute (the valid candidates, sandboxed) → select (vote, orchestrator/answerNode.ts) → correct (the
 * generator agent with the correction prompt, the same adapter and cache as generate) → respond.
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import {
  generateCandidates,
  withVerdict,
  type GenerationRequest,
  type GeneratorInput,
} from "../agents/generatorAgent.js";
import { executeCandidates, validateCandidates, type SqlVerdict } from "../agents/validatorAgent.js";
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";
import { taskDatabase } from "../task/taskDatabase.js";
import { executesAfter, turnPrompt } from "../task/correctionLoop.js";
import { linkQuestion, type TaskContext, type TaskFailure } from "../task/text2sqlPrompt.js";
import { worstFailure } from "./answerNode.js";
import { Budget, callOptions, failed } from "./askBudget.js";
import { emit, type GraphDeps } from "./graphDeps.js";

const FOLLOW_UP = /^(now|only|just|and|but|also|what about|how about|instead|then|same|limit|restrict)\b/i;
import { storedOutcome, type Text2SqlStateType, type Text2SqlUpdate } from "./text2sqlState.js";

// ─── link ───────────────────────────────────────────────────────────────────────────────────────────

export async function linkNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const budget = new Budget("link", deps, config);
  const reset = { candidates: [], verdicts: [], executions: [], vote: null, attempt: 0, answer: null, linked: null };
  const question = state.question.trim();
  const previous = state.threadTurns.at(-1);
  const effectiveQuestion =
    previous && FOLLOW_UP.test(question) ? `${previous.effectiveQuestion} ${question}` : question;
  const warnings: string[] = [];
  if (effectiveQuestion !== question)
    warnings.push(`read as a follow-up of the previous question: "${effectiveQuestion}"`);
  const stop = (code: string, message: string): Text2SqlUpdate => ({
    ...reset,
    effectiveQuestion,
    warnings,
    failure: { stage: "link", code, message },
  });
  if (question.length === 0)
    return stop(
      "empty_question",
      'the question is empty: ask something about the database, e.g. "How many active projects are there?"',
    );
  if (question.length > 2000)
    return stop("question_too_long", `the question is ${question.length} characters long; keep it under 2000`);
  if (budget.spent) return { ...reset, effectiveQuestion, warnings, ...failed(deps, config, budget.ranOut()) };
  emit(deps, config, "progress", { stage: "link", detail: "reading the schema" });
  try {
    const db = taskDatabase(await budget.within(deps.db()), deps.schema);
    const { linked } = await budget.within(
      linkQuestion(db, effectiveQuestion, {
        deadline: budget.deadline,
        ...(config.signal ? { signal: config.signal } : {}),
      }),
    );
    if (linked.tables.length === 0)
      warnings.push("the question names no table or column of this database; the answer may not be meaningful");
    return { ...reset, effectiveQuestion, linked, warnings, failure: null };
  } catch (error) {
    const failure = budget.failure(error, "the database is not reachable");
    return { ...reset, effectiveQuestion, warnings, ...failed(deps, config, failure) };
  }
}

// ─── generate and correct ─────────────────────────────────────────────────────────────────────────

/** The task context of the state's question (chat styles): schema, linked tables, previous SQL, examples. */
async function taskContext(deps: GraphDeps, state: Text2SqlStateType): Promise<TaskContext> {
  const previous = state.threadTurns.at(-1);
  const followUp = state.effectiveQuestion !== state.question.trim();
  return {
    schema: await deps.schema(),
    linked: state.linked ?? { tables: [], columns: [], literals: [] },
    previousSql: followUp ? (previous?.sql ?? null) : null,
    examples: deps.feedback.similar(state.effectiveQuestion),
  };
}

/**
 * The generator agent's input for the state's question: the same generator, adapter version and cache for
 * the first round and every correction (a correction is sampled like the generation it corrects).
 */
async function generatorInput(
  deps: GraphDeps,
  state: Text2SqlStateType,
  correction: TaskFailure | null,
): Promise<GeneratorInput> {
  const style = await deps.promptStyle();
  const generator = await deps.generator();
  const context = style === "tiny" ? undefined : await taskContext(deps, state);
  const question = { question: state.effectiveQuestion, evidence: state.evidence };
  const request: GenerationRequest = {
    // The loop's one turn prompt (task/correctionLoop.ts): what GRPO's multi-turn episodes are trained on.
    prompt: turnPrompt(style, question, context, correction),
    mode: correction === null ? "answer" : "correct",
    schemaFingerprint: (await deps.schema()).fingerprint,
    n: deps.candidates,
    params: { maxTokens: style === "tiny" ? 96 : 384, ...deps.generationParams },
    examples: deps.feedback.similar(state.effectiveQuestion),
  };
  const adapter = (generator as { adapter?: string | null }).adapter ?? null;
  return { request, generator, cache: deps.cache, adapter };
}

export async function generateNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const budget = new Budget("generate", deps, config);
  if (budget.spent) return { candidates: [], ...failed(deps, config, budget.ranOut()) };
  const t0 = performance.now();
  try {
    const input = await budget.within(generatorInput(deps, state, null));
    const candidates = await deps.runtime.call(
      generateCandidates,
      input,
      callOptions(deps, config, "generator", budget),
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
    return { candidates: [], ...failed(deps, config, budget.failure(error, "the model could not generate")) };
  }
}

export async function correctNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const budget = new Budget("correct", deps, config);
  const failure = worstFailure(state)!;
  const attempt = state.attempt + 1;
  if (budget.spent) return { attempt, ...failed(deps, config, budget.ranOut()) };
  try {
    const input = await budget.within(generatorInput(deps, state, failure));
    const candidates = await deps.runtime.call(
      generateCandidates,
      input,
      callOptions(deps, config, "generator", budget),
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
    return { attempt, ...failed(deps, config, budget.failure(error, "the correction failed")) };
  }
}

// ─── validate and execute ───────────────────────────────────────────────────────────────────────────

export async function validateNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const budget = new Budget("validate", deps, config);
  const candidates = state.candidates;
  const none = { verdicts: candidates.map(() => null) };
  if (budget.spent) return { ...none, ...failed(deps, config, budget.ranOut()) };
  const t0 = performance.now();
  const withSql = candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.sql !== null);
  try {
    const verdicts =
      withSql.length === 0
        ? []
        : await deps.runtime.call(
            validateCandidates,
            {
              sqls: withSql.map(({ c }) => c.sql!),
              schema: await budget.within(deps.schema()),
              executor: await budget.within(deps.db()),
              validate: deps.validate,
            },
            callOptions(deps, config, "validator", budget),
          );
    const aligned: (SqlVerdict | null)[] = candidates.map(() => null);
    withSql.forEach(({ i }, k) => {
      aligned[i] = verdicts[k]!;
    });
    const durationMs = performance.now() - t0;
    for (const { c, i } of withSql)
      emit(deps, config, "validated", {
        index: i,
        sql: c.sql!,
        valid: aligned[i]!.valid,
        errors: aligned[i]!.errors.map((e) => e.message),
        durationMs,
      });
    return {
      verdicts: aligned,
      candidates: candidates.map((c, i) => ({
        ...c,
        confidence: aligned[i] ? withVerdict(c.confidence, aligned[i]!.valid) : c.confidence,
      })),
    };
  } catch (error) {
    return { ...none, ...failed(deps, config, budget.failure(error, "the validator failed")) };
  }
}

export async function executeNode(
  deps: GraphDeps,
  state: Text2SqlStateType,
  config: LangGraphRunnableConfig,
): Promise<Text2SqlUpdate> {
  const budget = new Budget("execute", deps, config);
  const candidates = state.candidates;
  const executions: (ExecutionOutcome | null)[] = candidates.map(() => null);
  const runnable = candidates.map((c, i) => ({ c, i })).filter(({ c, i }) => executesAfter(c.sql, state.verdicts[i]));
  if (runnable.length === 0) return { executions };
  if (budget.spent) return { executions, ...failed(deps, config, budget.ranOut()) };
  const t0 = performance.now();
  try {
    const timeoutMs = Math.min(deps.executeOptions.timeoutMs ?? 5000, budget.leftMs);
    const outcomes = await deps.runtime.call(
      executeCandidates,
      {
        sqls: runnable.map(({ c }) => c.sql!),
        executor: await budget.within(deps.db()),
        options: { ...deps.executeOptions, timeoutMs },
      },
      callOptions(deps, config, "executor", budget),
    );
    const durationMs = performance.now() - t0;
    runnable.forEach(({ c, i }, k) => {
      const o = outcomes[k]!;
      executions[i] = storedOutcome(o);
      emit(deps, config, "executed", {
        index: i,
        sql: c.sql!,
        ok: o.ok,
        rowCount: o.ok ? o.result.rowCount : 0,
        error: o.ok ? null : o.error,
        durationMs,
      });
    });
    // A query cut short by the budget (not by its own limit) means the ask's time ran out here.
    const cutByBudget = outcomes.some((o) => !o.ok && o.kind === "timeout") && budget.spent;
    return cutByBudget ? { executions, ...failed(deps, config, budget.ranOut()) } : { executions };
  } catch (error) {
    return { executions, ...failed(deps, config, budget.failure(error, "the database failed")) };
  }
}
