/**
 * The text-to-SQL agent: the facade over the graph (orchestrator/text2sqlGraph.ts) — it opens what it was
 * given as specs (model, database, checkpointer), creates the actor runtime, the caches and the event bus,
 * and runs one ask at a time per call.
 *
 * An ask always ends, with an answer:
 * 1. One time budget per ask (`timeoutMs`, default 60 s): the deadline goes to the nodes, which give every
 *    agent call, schema read and lookup the time left at most; a stage the budget ran out in answers with
 *    `error: { stage, code: "timeout" }`.
 * 2. Time-outs are not retried (the runtime retries only lost database connections), so a generation that
 *    hangs costs the budget once, not 120 s × 3.
 * 3. Model, validator and database failures become the answer's `error` (the nodes catch them). Should the
 *    graph itself still be running 2 s past the deadline, the run is aborted and answered as a time-out of the
 *    stage it was in. Only the caller's own abort (`signal`) rejects.
 * Threads: `threadId` continues a conversation (follow-ups are read with the previous question) in the
 * checkpointer — a MemorySaver by default, or a spec (orchestrator/openCheckpointer.ts: `postgres://…`,
 * `pglite:<dir>`) so another process can continue the thread. One-off asks leave no checkpoint behind.
 *
 * @example
 * const agent = await createText2SqlAgent({ model: "demo.gguf", db: "demo", timeoutMs: 30_000 });
 * const answer = await agent.ask("Show all active projects with budget over 100000");
 * console.log(answer.sql, answer.rows.length, answer.confidence, answer.error);
 * await agent.close();
 */
import { randomUUID } from "node:crypto";
import { type BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { FeedbackMemory } from "../agents/generatorAgent.js";
import { InputError, SqlRefusedError, isTimeoutError } from "../errors.js";
import { openTextGenerator } from "../models/openTextGenerator.js";
import type { Completion, TextGenerator } from "../models/textGenerator.js";
import { createActorRuntime, isTransientError } from "../runtime/actorRuntime.js";
import { BoundedCache, schemaCacheKey } from "../runtime/boundedCache.js";
import { createEventBus } from "../runtime/eventBus.js";
import { defaultBusinessRules } from "../sql/businessRules.js";
import { openDatabase } from "../sql/openDatabase.js";
import { introspectSchema, type SchemaModel } from "../sql/schemaModel.js";
import { validateSql } from "../sql/validateSql.js";
import { promptStyleForModel } from "../task/text2sqlPrompt.js";
import type { GraphDeps } from "./graphDeps.js";
import { openCheckpointer } from "./openCheckpointer.js";
import { interruptedAnswer, timedOutAnswer } from "./answerNode.js";
import { buildText2SqlGraph } from "./text2sqlGraph.js";
import type { AskStage, Text2SqlAnswer, Text2SqlStateType } from "./text2sqlState.js";

import type { AskOptions, Text2SqlAgent, Text2SqlAgentOptions } from "./text2sqlAgentOptions.js";

export type { AskOptions, Text2SqlAgent, Text2SqlAgentOptions };

/** How long past its deadline a run may still be running before the facade aborts it, ms. */
const GRACE_MS = 2000;

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

const given = <T>(value: T): (() => Promise<T>) => {
  const p = Promise.resolve(value);
  return () => p;
};

function positiveInteger(value: number, name: string, min: number, max: number, hint: string): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new InputError(`${name} must be an integer from ${min} to ${max}, got ${value}`, { hint });
}

/**
 * Creates the agent: the runtime, the caches, the event bus and the compiled graph.
 * @example
 * const agent = await createText2SqlAgent({ model: await loadModel({ model: "tiny.gguf" }), db: "demo", candidates: 4 });
 */
export async function createText2SqlAgent(options: Text2SqlAgentOptions): Promise<Text2SqlAgent> {
  const candidates = options.candidates ?? 4;
  positiveInteger(candidates, "candidates", 1, 64, "4 is a good default");
  const maxCorrections = options.maxCorrections ?? 1;
  positiveInteger(maxCorrections, "maxCorrections", 0, 16, "1 is a good default");
  const timeoutMs = options.timeoutMs ?? 60_000;
  positiveInteger(timeoutMs, "timeoutMs", 1, 24 * 3_600_000, "60000 (a minute) is the default");
  if (
    options.model === undefined ||
    options.model === null ||
    (typeof options.model === "string" && options.model.trim() === "")
  )
    throw new InputError(
      "createText2SqlAgent needs a model: a TextGenerator, a .gguf path, an hf: URI or openai:<base URL>",
    );
  const ownsModel = typeof options.model === "string";
  const generator =
    typeof options.model === "string"
      ? lazy(
          () =>
            openTextGenerator({
              model: options.model as string,
              timeoutMs,
              gpu: options.load?.gpu ?? "auto",
              sequences: options.load?.sequences ?? candidates,
              ...(options.load?.adapter ? { adapter: options.load.adapter } : {}),
            }) as Promise<TextGenerator>,
        )
      : given(options.model);
  if (ownsModel) await generator(); // a missing / broken model file fails here, with its ModelError
  const ownsDb = typeof options.db !== "object";
  const db =
    typeof options.db === "object"
      ? given(options.db)
      : lazy(() => openDatabase((options.db as string | undefined) ?? "demo"));
  const businessRules =
    options.businessRules ?? (typeof options.db === "object" ? [] : defaultBusinessRules(options.db));
  const opened = typeof options.checkpointer === "string" ? await openCheckpointer(options.checkpointer) : null;
  const checkpointer = opened?.saver ?? (options.checkpointer as BaseCheckpointSaver | undefined) ?? new MemorySaver();
  const schemas = new BoundedCache<Promise<SchemaModel>>({ maxEntries: 8, ttlMs: 5 * 60_000 });
  const bus = options.events ?? createEventBus();
  // Time-outs are final: the budget, not a retry, decides how long an ask may take.
  const runtime = createActorRuntime({
    concurrency: 64,
    mailboxSize: 4096,
    isTransient: (error) => !isTimeoutError(error) && isTransientError(error),
    ...options.runtime,
  });
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
    validate: options.validate ?? ((sql, o) => validateSql(sql, { ...o, businessRules })),
    promptStyle: async () =>
      options.promptStyle ?? promptStyleForModel((await generator()) as { vocabularySize?: number }),
    executeOptions: { timeoutMs: 5000, maxRows: 1000, ...options.executeOptions },
    generationParams: options.generationParams ?? {},
    stageTimeoutMs: timeoutMs,
    stages: new Map(),
  };
  const graph = buildText2SqlGraph(deps, {
    checkpointer,
    interruptBeforeExecute: options.interruptBeforeExecute ?? false,
  });

  const durability = options.durability ?? "exit";
  const runConfig = (threadId: string | undefined, runId: string, budgetMs: number, signal?: AbortSignal) => ({
    configurable: {
      thread_id: threadId ?? `ask-${runId}`,
      runId,
      userThread: threadId ?? null,
      deadline: performance.now() + budgetMs,
    },
    recursionLimit: 40,
    durability,
    ...(signal ? { signal } : {}),
  });
  type RunConfig = ReturnType<typeof runConfig>;

  /** Runs the graph under the facade's guard: past the deadline + GRACE_MS the run is aborted (see step 3). */
  async function guarded<T>(
    config: RunConfig,
    budgetMs: number,
    userSignal: AbortSignal | undefined,
    run: (config: RunConfig) => Promise<T>,
  ): Promise<T | { overran: AskStage }> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(userSignal?.reason);
    userSignal?.addEventListener("abort", onAbort, { once: true });
    let overran = false;
    const timer = setTimeout(() => {
      overran = true;
      controller.abort();
    }, budgetMs + GRACE_MS);
    try {
      return await run({ ...config, signal: controller.signal });
    } catch (error) {
      if (overran && !userSignal?.aborted) return { overran: deps.stages.get(config.configurable.runId) ?? "link" };
      throw error;
    } finally {
      clearTimeout(timer);
      userSignal?.removeEventListener("abort", onAbort);
      deps.stages.delete(config.configurable.runId);
    }
  }

  async function finish(
    threadId: string | undefined,
    runId: string,
    config: RunConfig,
    final?: Text2SqlStateType,
  ): Promise<Text2SqlAnswer> {
    if (final?.answer) return final.answer; // finished: no need to read the checkpoint
    const snapshot = await graph.getState(config);
    const values = snapshot.values as Text2SqlStateType;
    if (snapshot.next.includes("execute")) {
      return interruptedAnswer(values, threadId ?? config.configurable.thread_id);
    }
    if (!values.answer)
      throw new InputError(`the run ${runId} ended without an answer`, {
        hint: "this is a bug in gl-rl; please report it",
      });
    return values.answer;
  }

  async function forget(
    threadId: string | undefined,
    config: RunConfig,
    answer: Text2SqlAnswer | undefined,
  ): Promise<void> {
    // One-off threads are dropped (bounded memory) unless they wait for resume.
    if (threadId === undefined && answer?.status !== "interrupted")
      await checkpointer.deleteThread(config.configurable.thread_id).catch(() => undefined);
  }

  function begin(question: unknown, askOptions: AskOptions) {
    if (typeof question !== "string") throw new InputError(`ask: question must be a string, got ${typeof question}`);
    const budgetMs = askOptions.timeoutMs ?? timeoutMs;
    positiveInteger(budgetMs, "timeoutMs", 1, 24 * 3_600_000, "60000 (a minute) is the default");
    const runId = randomUUID();
    const config = runConfig(askOptions.threadId, runId, budgetMs);
    bus.beginRun(runId);
    bus.emitTimed("started", runId, { question, threadId: askOptions.threadId ?? null });
    return { runId, config, budgetMs, input: { question, evidence: askOptions.evidence ?? null } };
  }

  const agent: Text2SqlAgent = {
    graph,
    events: bus,
    async ask(question, askOptions = {}) {
      const { runId, config, budgetMs, input } = begin(question, askOptions);
      let answer: Text2SqlAnswer | undefined;
      try {
        const final = await guarded(config, budgetMs, askOptions.signal, (c) => graph.invoke(input, c));
        answer =
          "overran" in final
            ? timedOutAnswer(final.overran, budgetMs, askOptions.threadId ?? null)
            : await finish(askOptions.threadId, runId, config, final as Text2SqlStateType);
        return answer;
      } finally {
        await forget(askOptions.threadId, config, answer);
        bus.endRun(runId);
      }
    },
    async *stream(question, askOptions = {}) {
      const { runId, config, input } = begin(question, askOptions);
      try {
        const run = { ...config, ...(askOptions.signal ? { signal: askOptions.signal } : {}) };
        for await (const chunk of await graph.stream(input, { ...run, streamMode: ["updates", "custom"] as const }))
          yield chunk as [string, unknown];
      } finally {
        await forget(askOptions.threadId, config, undefined);
        bus.endRun(runId);
      }
    },
    async resume(threadId, resumeOptions = {}) {
      const runId = randomUUID();
      const budgetMs = resumeOptions.timeoutMs ?? timeoutMs;
      const config = runConfig(threadId, runId, budgetMs);
      const snapshot = await graph.getState(config);
      if (!snapshot.next.includes("execute"))
        throw new InputError(`thread ${threadId} is not waiting before execute`, {
          hint: "ask with interruptBeforeExecute: true first",
        });
      bus.beginRun(runId);
      try {
        const final = await guarded(config, budgetMs, resumeOptions.signal, (c) => graph.invoke(null, c));
        return "overran" in final
          ? timedOutAnswer(final.overran, budgetMs, threadId)
          : await finish(threadId, runId, config);
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
          {
            hint: verdict.errors[0]?.hint ?? "give one read-only SELECT over this database's tables",
          },
        );
      }
      deps.feedback.remember(question, sql);
    },
    async close() {
      await runtime.dispose();
      if (ownsModel)
        await ((await generator().catch(() => null)) as { dispose?: () => Promise<void> } | null)?.dispose?.();
      if (ownsDb) await (await db().catch(() => null))?.close();
      await opened?.close();
    },
    async [Symbol.asyncDispose]() {
      await agent.close();
    },
  };
  return agent;
}
