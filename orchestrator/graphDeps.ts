/**
 * What the orchestrator's nodes close over (`GraphDeps`, built once per agent by the facade,
 * orchestrator/text2sqlAgent.ts) and the helpers every node uses: the run id and the event emitter (the bus
 * and the graph's `custom` stream).
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { FeedbackMemory } from "../agents/generatorAgent.js";
import type { ValidateSqlFn } from "../agents/validatorAgent.js";
import type { PromptStyle } from "../models/promptTemplates.js";
import type { Completion, GenerationParams, TextGenerator } from "../models/textGenerator.js";
import type { ActorRuntime } from "../runtime/actorRuntime.js";
import type { BoundedCache } from "../runtime/boundedCache.js";
import type { AgentEventName, AgentEventPayloads, EventBus } from "../runtime/eventBus.js";
import type { SchemaModel } from "../sql/schemaModel.js";
import type { ExecuteOptions, SqlExecutor } from "../sql/sqlExecutor.js";
import type { AskStage } from "./text2sqlState.js";

/** What the nodes close over (built once per agent by the facade). */
export interface GraphDeps {
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
  /** Per-stage time limit when no ask deadline is set (the graph run as a subgraph), ms. */
  stageTimeoutMs: number;
  /** The stage each run is in (the facade reports it when its own guard stops a run). */
  stages: Map<string, AskStage>;
}

export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message.split("\n")[0]! : String(error);

export function runIdOf(config: LangGraphRunnableConfig): string {
  return (
    (config.configurable?.runId as string | undefined) ??
    (config.configurable?.thread_id as string | undefined) ??
    "run"
  );
}

/** Emits on the bus and into the graph's `custom` stream. */
export function emit<K extends AgentEventName>(
  deps: GraphDeps,
  config: LangGraphRunnableConfig,
  name: K,
  payload: AgentEventPayloads[K],
): void {
  deps.bus.emitTimed(name, runIdOf(config), payload);
  config.writer?.({ event: name, ...payload });
}
