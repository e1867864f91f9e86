/**
 * The options and the shape of the text-to-SQL agent (orchestrator/text2sqlAgent.ts `createText2SqlAgent`):
 * every option with its default.
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { ValidateSqlFn } from "../agents/validatorAgent.js";
import type { PromptStyle } from "../models/promptTemplates.js";
import type { GenerationParams, TextGenerator } from "../models/textGenerator.js";
import type { ActorRuntimeOptions } from "../runtime/actorRuntime.js";
import type { EventBus } from "../runtime/eventBus.js";
import type { BusinessRule } from "../sql/businessRules.js";
import type { ExecuteOptions, SqlExecutor } from "../sql/sqlExecutor.js";
import type { Text2SqlGraph } from "./text2sqlGraph.js";
import type { Text2SqlAnswer } from "./text2sqlState.js";

export interface Text2SqlAgentOptions {
  /**
   * A TextGenerator (e.g. a LoadedModel) or a GGUF path / hf: URI to load, or `openai:<base URL>` for a model on an
   * OpenAI-compatible server (models/openTextGenerator.ts); one it opens is closed by `close`.
   */
  model: TextGenerator | string;
  /** An executor or a `--db` spec (demo | pglite:<dir> | postgres://…), opened lazily. Default "demo". */
  db?: SqlExecutor | string;
  /** Candidates per question. Default 4. */
  candidates?: number;
  /** Default by model (task/text2sqlPrompt.ts `promptStyleForModel`): "tiny" for the tiny demo model, else "schemaAware". */
  promptStyle?: PromptStyle;
  /**
   * Any LangGraph checkpointer, or a spec: "memory", "postgres://…" (LangGraph's PostgreSQL checkpointer,
   * threads shared across processes) or "pglite:<dir>" (orchestrator/openCheckpointer.ts). Default a MemorySaver.
   */
  checkpointer?: BaseCheckpointSaver | string;
  /** One ask's time budget, ms (per ask: AskOptions.timeoutMs). Default 60000. */
  timeoutMs?: number;
  /** Correction rounds when no candidate runs. Default 1. */
  maxCorrections?: number;
  /** Stop before executing (human review); `resume(threadId)` continues. Default false. */
  interruptBeforeExecute?: boolean;
  /** The validator. Default sql/validateSql with `businessRules`. */
  validate?: ValidateSqlFn;
  /** Business rules the validator warns about. Default DEMO_BUSINESS_RULES on the demo database, else none. */
  businessRules?: readonly BusinessRule[];
  /** Sandbox limits of candidate execution. Default { timeoutMs: 5000, maxRows: 1000 } (and 16 MB of rows). */
  executeOptions?: ExecuteOptions;
  generationParams?: Partial<GenerationParams>;
  runtime?: ActorRuntimeOptions;
  /** Generation cache entries. Default 512 (0 disables). */
  cacheSize?: number;
  /** Loading `model` from a path: sequences of the context (default = candidates), GPU choice, adapter. */
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
  /** Business definitions or hints for this question, as BIRD's "evidence". The prompt carries them. */
  evidence?: string;
  /** This ask's time budget, ms. Default the agent's `timeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Text2SqlAgent {
  ask(question: string, options?: AskOptions): Promise<Text2SqlAnswer>;
  /** The graph's `updates` and `custom` stream for one ask: `[mode, chunk]` pairs. */
  stream(question: string, options?: AskOptions): AsyncIterable<[string, unknown]>;
  /** Continues a thread stopped before execute. */
  resume(threadId: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Text2SqlAnswer>;
  /** Stores a user's correct SQL for a question: a few-shot example (and candidate) for similar questions. */
  feedback(question: string, sql: string): Promise<void>;
  /** The compiled graph (usable as a subgraph: it reads `question` and writes `answer`). */
  graph: Text2SqlGraph;
  events: EventBus;
  /** Stops the actors; closes the model, the database and the checkpointer when the agent opened them. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
